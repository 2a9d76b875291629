"""The binomial varying intercepts drawn with the latent variables integrated out.

Given (beta, gamma, sigma_alpha), each alpha_j has the exact conditional density

    p(alpha_j | ...) propto N(alpha_j; U_j gamma, sigma_alpha^2)
                           prod_{i in j} F(eta_i)^y_i (1 - F(eta_i))^(m_i - y_i),

which one slice step per group leaves invariant (:mod:`gibbs.kernels.slice_groups`). The
augmented draw of alpha given the Albert-Chib utilities moves alpha_j by about 1 / sqrt(m_j) per
sweep whatever the width of its conditional; where the data nearly separate (a group of all
successes, linear predictors of several units) that conditional is as wide as the prior and the
augmented chain crawls. The slice step crosses it in a few sweeps.

A slice step is a Markov kernel, not an exact draw: it keeps p(alpha | beta, gamma, sigma_alpha, y)
only if alpha enters it already distributed so. It must therefore follow a block that leaves
alpha current (the exact draw given the latent variables), never directly a block that moved
(beta, gamma) or sigma_alpha with alpha integrated out: there the old alpha belongs to the old
parameters, and the chain converges to the wrong distribution (Geweke's test, prior-scales
design: sum(eta^2) 25.9 against 6.0). The latent variables it leaves stale are redrawn first in
the next sweep. The likelihood is
computed on cells, rows that share a group and a covariate pattern (radon: 919 houses, at most
170 cells), whose successes and trials add up exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from gibbs.kernels.binomial import BinomialModel, BinomialState
from gibbs.kernels.scales import slice_step_batched
from gibbs.kernels.slice_groups import slice_step_grouped
from gibbs.kernels.tuning import current

__all__ = [
    "cell_loglik",
    "cell_successes",
    "eta_cells",
    "update_alpha_integrated",
    "update_beta_integrated",
    "update_gamma_noncentered",
    "update_sigma_noncentered",
]

# Largest Fisher information of eta per trial (at eta = 0): 1/4 for the logit, 2/pi for the
# probit. 1 / sqrt(info_max m_j + 1 / sigma_alpha^2) bounds the conditional sd of alpha_j below.
_INFO_MAX = {"logistic": 0.25, "probit": 2.0 / np.pi}


def cell_successes(model: BinomialModel) -> np.ndarray:
    """Successes per cell for each outcome vector of ``model``, shape (outcomes, cells)."""
    Y = model.Y
    n_cells = model.cell_group.size
    index = model.cell_of_row + n_cells * np.arange(Y.shape[0])[:, None]
    return np.bincount(index.ravel(), Y.ravel(), Y.shape[0] * n_cells).reshape(-1, n_cells)


def _per_chain(A: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Return A @ v row by row.

    One product over all chains is rounded by BLAS according to the number of chains, and a
    chain's draws must not depend on it.
    """
    return np.matmul(A[:, None, :], v[:, None])[:, 0, 0]


def cell_loglik(family: str, eta: np.ndarray, y: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Return log F(eta)^y (1 - F(eta))^(m - y), without the binomial coefficient."""
    if family == "logistic":
        return y * eta - m * np.logaddexp(0.0, eta)
    return y * special.log_ndtr(eta) + (m - y) * special.log_ndtr(-eta)


def update_alpha_integrated(streams, state: BinomialState, model: BinomialModel) -> BinomialState:
    """Draw every alpha_j given (beta, gamma, sigma_alpha) by a slice step on its exact density."""
    C, J = state.alpha.shape
    y = cell_successes(model)[:, None, :]  # (outcomes, 1, cells)
    m = model.cell_trials
    if model.data.p:
        # A stacked product keeps each chain's rounding independent of the batch size.
        offset = np.matmul(state.beta[:, None, :], model.cell_X.T)[:, 0]
    else:
        offset = np.zeros((C, m.size))
    mean = np.matmul(state.gamma[:, None, :], model.data.U.T)[:, 0]
    prec = state.sigma_alpha**-2.0
    group = model.cell_group
    family = model.family

    def logf(a: np.ndarray) -> np.ndarray:
        k = a.shape[1]
        ll = cell_loglik(family, a[..., group] + offset[:, None, :], y, m)
        index = group + J * np.arange(C * k).reshape(C, k, 1)
        sums = np.bincount(index.ravel(), ll.ravel(), C * k * J).reshape(C, k, J)
        dev = a - mean[:, None, :]
        return sums - 0.5 * prec[:, None, None] * dev * dev

    trials_j = np.bincount(group, m, J)
    # Prior times a log-concave likelihood: the conditional sd is at most sigma_alpha.
    lower = 1.0 / np.sqrt(_INFO_MAX[family] * trials_j + prec[:, None])
    width = _width(lower, state.sigma_alpha[:, None])
    return state._replace(alpha=slice_step_grouped(streams, logf, state.alpha, width))


def update_beta_integrated(streams, state: BinomialState, model: BinomialModel) -> BinomialState:
    """Update each coefficient of beta given alpha by a slice step on its exact density.

    With the latent variables integrated out, beta moves across its marginal posterior instead
    of within the narrow conditional that the utilities of nearly separated rows leave it.
    """
    p = model.data.p
    if p == 0:
        return state
    y = cell_successes(model)
    m, X = model.cell_trials, model.cell_X
    base = state.alpha[:, model.cell_group]
    P, Pm = model.P_beta, model.Pm_beta
    beta = state.beta.copy()
    info = _INFO_MAX[model.family] * (m @ (X * X))
    for k in range(p):
        # The other coefficients' part of eta and of the prior's quadratic form.
        rest = base + np.matmul(beta[:, None, :], X.T)[:, 0] - beta[:, k : k + 1] * X[:, k]
        cross = _per_chain(beta, P[:, k]) - beta[:, k] * P[k, k]

        def logf(b: np.ndarray, rest=rest, cross=cross, k=k) -> np.ndarray:
            eta = rest[:, None, :] + b[..., None] * X[:, k]
            ll = cell_loglik(model.family, eta, y[:, None, :], m).sum(axis=-1)
            return ll - 0.5 * P[k, k] * b * b - (cross[:, None] - Pm[k]) * b

        width = 2.0 * current().slice_width / np.sqrt(info[k] + P[k, k])
        beta[:, k] = slice_step_batched(streams, logf, beta[:, k], width=width)
    return state._replace(beta=beta)


def eta_cells(state: BinomialState, model: BinomialModel) -> np.ndarray:
    """Return eta of every cell for every chain, shape (chains, cells)."""
    eta = state.alpha[:, model.cell_group]
    if model.data.p:
        eta = eta + np.matmul(state.beta[:, None, :], model.cell_X.T)[:, 0]
    return eta


def _width(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Return a slice step's width from bounds on the conditional sd.

    Near the upper bound if it is not far above the lower one (few shrinkage steps), else a
    multiple of the lower one (few step-outs).
    """
    return 2.0 * current().slice_width * np.minimum(upper, 30.0 * lower)


def update_gamma_noncentered(streams, state: BinomialState, model: BinomialModel) -> BinomialState:
    """Move each gamma_k with the standardized effects alpha - U gamma held fixed.

    alpha_j moves with it by U_jk times the step, so only the likelihood and gamma's prior
    change: the translation that the centered draw of gamma given alpha cannot make when the
    data hardly inform alpha (separation), where alpha_j and U_j gamma move only together.
    """
    y = cell_successes(model)[:, None, :]
    m = model.cell_trials
    Uc = model.data.U[model.cell_group]  # (cells, q)
    P, Pm = model.P_gamma, model.Pm_gamma
    info = _INFO_MAX[model.family] * (m @ (Uc * Uc))
    gamma = state.gamma.copy()
    eta = eta_cells(state, model)
    for k in range(model.data.q):
        g0 = gamma[:, k].copy()
        cross = _per_chain(gamma, P[:, k]) - gamma[:, k] * P[k, k]

        def logf(g: np.ndarray, g0=g0, eta=eta, cross=cross, k=k) -> np.ndarray:
            moved = eta[:, None, :] + (g - g0[:, None])[..., None] * Uc[:, k]
            ll = cell_loglik(model.family, moved, y, m).sum(axis=-1)
            return ll - 0.5 * P[k, k] * g * g - (cross[:, None] - Pm[k]) * g

        upper = 1.0 / np.sqrt(P[k, k]) if P[k, k] > 0 else np.inf
        width = _width(1.0 / np.sqrt(info[k] + P[k, k]), upper)
        gamma[:, k] = slice_step_batched(streams, logf, g0, width=width)
        eta = eta + (gamma[:, k] - g0)[:, None] * Uc[:, k]
    alpha = state.alpha + np.matmul((gamma - state.gamma)[:, None, :], model.data.U.T)[:, 0]
    return state._replace(alpha=alpha, gamma=gamma)


def update_sigma_noncentered(streams, state: BinomialState, model: BinomialModel) -> BinomialState:
    """Move log sigma_alpha with the standardized effects (alpha - U gamma) / sigma_alpha fixed.

    The scale then changes the likelihood directly instead of only through alpha's spread (the
    non-centered half of Yu and Meng's interweaving); an exact slice step on log sigma_alpha under
    the prior's marginal density.
    """
    y = cell_successes(model)[:, None, :]
    m = model.cell_trials
    mean = np.matmul(state.gamma[:, None, :], model.data.U.T)[:, 0]
    dev = (state.alpha - mean)[:, model.cell_group]  # sigma_alpha times the standardized effect
    rest = eta_cells(state, model) - dev
    s0 = state.sigma_alpha
    prior = model.priors.sigma_alpha

    def logf(x: np.ndarray) -> np.ndarray:
        ratio = np.exp(x) / s0[:, None]
        ll = cell_loglik(model.family, rest[:, None] + ratio[..., None] * dev[:, None], y, m)
        return ll.sum(axis=-1) + prior.logpdf(np.exp(x)) + x

    x = slice_step_batched(streams, logf, np.log(s0), width=current().slice_width)
    sigma = np.exp(x)
    alpha = mean + (state.alpha - mean) * (sigma / s0)[:, None]
    return state._replace(alpha=alpha, sigma_alpha=sigma)
