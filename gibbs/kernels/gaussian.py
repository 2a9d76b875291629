"""Gibbs blocks of the Gaussian varying-intercept model.

Model (DESIGN.md section 2)::

    y_i     ~ N(alpha_j[i] + X_i beta, sigma_y^2)      i = 1..n
    alpha_j ~ N(U_j gamma, sigma_alpha^2)              j = 1..J

with the priors of :class:`gibbs.priors.Priors`. Every block is a pure function
``update(streams, state, model) -> state`` acting on all chains at once (leading axis of every
state array). The blocks use the per-group sufficient statistics only, so an iteration costs
O(J (p + q)^2), whatever n.

Corrections to the source article's steps (DESIGN.md section 3): the variances are *drawn* from
their full conditionals (not set to sample variances), the group-level sum runs over the J groups
(not n), and the normal equations use X^T and U^T.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.kernels.scales import draw_centered_scale, draw_noncentered_scale
from gibbs.priors import Flat, Priors

__all__ = [
    "GaussianModel",
    "State",
    "asis_sigma_alpha",
    "log_joint",
    "residual_ss",
    "update_alpha",
    "update_beta",
    "update_beta_gamma_marginal",
    "update_gamma",
    "update_sigma_alpha",
    "update_sigma_y",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


class State(NamedTuple):
    """Sampler state for a batch of chains.

    Attributes
    ----------
    alpha : ndarray, shape (chains, J)
    beta : ndarray, shape (chains, p)
    gamma : ndarray, shape (chains, q)
    sigma_y, sigma_alpha : ndarray, shape (chains,)
    aux_y, aux_alpha : ndarray, shape (chains,)
        Auxiliary variables of half-t priors (Wand et al. 2011); 1 when unused.
    """

    alpha: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    sigma_y: np.ndarray
    sigma_alpha: np.ndarray
    aux_y: np.ndarray
    aux_alpha: np.ndarray


def _inverse_and_root(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return A^{-1} and R with R R^T = A^{-1} (R = L^{-T} for A = L L^T)."""
    if A.shape[0] == 0:
        return A.copy(), A.copy()
    L = np.linalg.cholesky(A)
    L_inv = np.linalg.inv(L)
    return L_inv.T @ L_inv, L_inv.T


@dataclass(frozen=True, eq=False)
class GaussianModel:
    """Data, priors and the matrices every sweep reuses, computed once.

    Parameters
    ----------
    data : HierarchicalData
    priors : Priors
    """

    data: HierarchicalData
    priors: Priors

    def __post_init__(self) -> None:
        self.priors.check(self.data)
        d, s, p, q = self.data, self.data.stats, self.data.p, self.data.q
        cache = {}
        cache["P_beta"], cache["Pm_beta"] = self.priors.beta.precision(p)
        cache["P_gamma"], cache["Pm_gamma"] = self.priors.gamma.precision(q)
        cache["UtU"] = d.U.T @ d.U
        cache["XtX_inv"], cache["XtX_root"] = _inverse_and_root(s.XtX)
        cache["UtU_inv"], cache["UtU_root"] = _inverse_and_root(cache["UtU"])
        # Marginal (alpha integrated out) normal equations of theta = (beta, gamma):
        # per-group column sums of the design [X, U_j] and their outer products.
        group_sums = np.column_stack([s.sum_X, s.n_j[:, None] * d.U])
        cache["group_sums"] = group_sums
        cache["group_outer"] = group_sums[:, :, None] * group_sums[:, None, :]
        sXU = s.sum_X.T @ d.U
        cache["M"] = np.block([[s.XtX, sXU], [sXU.T, (d.U.T * s.n_j) @ d.U]])
        cache["h"] = np.concatenate([s.Xty, d.U.T @ s.sum_y])
        cache["P_theta"] = np.block(
            [
                [cache["P_beta"], np.zeros((p, q))],
                [np.zeros((q, p)), cache["P_gamma"]],
            ]
        )
        cache["Pm_theta"] = np.concatenate([cache["Pm_beta"], cache["Pm_gamma"]])
        for key, value in cache.items():
            value.setflags(write=False)
            object.__setattr__(self, key, value)


# --------------------------------------------------------------------------- helpers
def _gaussian_draw(z: np.ndarray, Q: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Draw N(Q^{-1} b, Q^{-1}) per chain from standard normals ``z`` (chains, d)."""
    if Q.shape[-1] == 0:
        return np.zeros(b.shape)
    L = np.linalg.cholesky(Q)
    mean = np.linalg.solve(Q, b[..., None])[..., 0]
    noise = np.linalg.solve(np.swapaxes(L, -1, -2), z[..., None])[..., 0]
    return mean + noise


def residual_ss(state: State, model: GaussianModel) -> np.ndarray:
    """Sum over rows of (y_i - alpha_j[i] - X_i beta)^2 from sufficient statistics, per chain."""
    s = model.data.stats
    alpha, beta = state.alpha, state.beta
    Xb_sum = beta @ s.sum_X.T  # (chains, J): sum over group j of X_i beta
    ss = (
        s.yty
        - 2.0 * (alpha @ s.sum_y + beta @ s.Xty)
        + (alpha * alpha) @ s.n_j
        + np.einsum("ca,ab,cb->c", beta, s.XtX, beta)
        + 2.0 * np.sum(alpha * Xb_sum, axis=1)
    )
    return np.maximum(ss, 0.0)


def _group_ss(state: State, model: GaussianModel) -> np.ndarray:
    dev = state.alpha - state.gamma @ model.data.U.T
    return np.sum(dev * dev, axis=1)


# --------------------------------------------------------------------------- blocks
def update_alpha(streams, state: State, model: GaussianModel) -> State:
    """Step 1: alpha_j ~ N(V_j ((S_j - sumX_j beta) / sigma_y^2 + U_j gamma / sigma_alpha^2), V_j).

    ``V_j = 1 / (n_j / sigma_y^2 + 1 / sigma_alpha^2)``; a group without rows draws from its prior.
    """
    s, U = model.data.stats, model.data.U
    prec_y = state.sigma_y[:, None] ** -2.0
    prec_a = state.sigma_alpha[:, None] ** -2.0
    precision = s.n_j * prec_y + prec_a
    b = (s.sum_y - state.beta @ s.sum_X.T) * prec_y + (state.gamma @ U.T) * prec_a
    z = streams.normal(model.data.n_groups)
    return state._replace(alpha=b / precision + z / np.sqrt(precision))


def update_beta(streams, state: State, model: GaussianModel) -> State:
    """Step 2: beta | alpha, sigma_y, y: regression of y - alpha_j[i] on X (with X^T, not X)."""
    s = model.data.stats
    if model.data.p == 0:
        return state
    r = s.Xty - state.alpha @ s.sum_X  # X^T (y - alpha_j[i])
    z = streams.normal(model.data.p)
    if isinstance(model.priors.beta, Flat):
        beta = r @ model.XtX_inv.T + state.sigma_y[:, None] * (z @ model.XtX_root.T)
    else:
        prec_y = state.sigma_y[:, None, None] ** -2.0
        beta = _gaussian_draw(z, s.XtX * prec_y + model.P_beta, r * prec_y[:, 0] + model.Pm_beta)
    return state._replace(beta=beta)


def update_gamma(streams, state: State, model: GaussianModel) -> State:
    """Step 3: gamma | alpha, sigma_alpha: regression of alpha on U (with U^T, not U)."""
    U = model.data.U
    r = state.alpha @ U  # U^T alpha
    z = streams.normal(model.data.q)
    if isinstance(model.priors.gamma, Flat):
        gamma = r @ model.UtU_inv.T + state.sigma_alpha[:, None] * (z @ model.UtU_root.T)
    else:
        prec_a = state.sigma_alpha[:, None, None] ** -2.0
        gamma = _gaussian_draw(
            z, model.UtU * prec_a + model.P_gamma, r * prec_a[:, 0] + model.Pm_gamma
        )
    return state._replace(gamma=gamma)


def update_beta_gamma_marginal(streams, state: State, model: GaussianModel) -> State:
    """Draw (beta, gamma) jointly with alpha integrated out.

    Within group j the rows are N(D_j theta, sigma_y^2 I + sigma_alpha^2 11^T), whose inverse is
    (I - c_j 11^T) / sigma_y^2 with c_j = sigma_alpha^2 / (sigma_y^2 + n_j sigma_alpha^2), so the
    normal equations need only the per-group column sums s_j of D_j = [X_j, 1 U_j].
    """
    s = model.data.stats
    p = model.data.p
    var_y = state.sigma_y**2
    var_a = state.sigma_alpha**2
    c = var_a[:, None] / (var_y[:, None] + s.n_j * var_a[:, None])  # (chains, J)
    Q = (model.M - np.einsum("cj,jab->cab", c, model.group_outer)) / var_y[:, None, None]
    b = (model.h - (c * s.sum_y) @ model.group_sums) / var_y[:, None]
    theta = _gaussian_draw(streams.normal(p + model.data.q), Q + model.P_theta, b + model.Pm_theta)
    return state._replace(beta=theta[:, :p], gamma=theta[:, p:])


def update_sigma_y(streams, state: State, model: GaussianModel) -> State:
    """Step 4: draw sigma_y from its full conditional given the residual sum of squares over n."""
    sigma, aux = draw_centered_scale(
        streams, model.priors.sigma_y, residual_ss(state, model), model.data.n, state.aux_y
    )
    return state._replace(sigma_y=sigma, aux_y=aux)


def update_sigma_alpha(streams, state: State, model: GaussianModel) -> State:
    """Step 5: draw sigma_alpha given sum_j (alpha_j - U_j gamma)^2 over the J groups (not n)."""
    sigma, aux = draw_centered_scale(
        streams,
        model.priors.sigma_alpha,
        _group_ss(state, model),
        model.data.n_groups,
        state.aux_alpha,
    )
    return state._replace(sigma_alpha=sigma, aux_alpha=aux)


def asis_sigma_alpha(streams, state: State, model: GaussianModel) -> State:
    """Interweave (Yu & Meng 2011) a non-centered draw of sigma_alpha.

    With eta_j = (alpha_j - U_j gamma) / sigma_alpha held fixed, sigma_alpha is a regression
    coefficient of the group residual sums R_j = S_j - sumX_j beta - n_j U_j gamma on n_j eta_j.
    Alternating this with the centered draw keeps sigma_alpha mixing when it is near zero, where
    the centered chain alone sticks.
    """
    s, U = model.data.stats, model.data.U
    mean_alpha = state.gamma @ U.T
    eta = (state.alpha - mean_alpha) / state.sigma_alpha[:, None]
    R = s.sum_y - state.beta @ s.sum_X.T - s.n_j * mean_alpha
    quad = (eta * eta) @ s.n_j
    lin = np.sum(eta * R, axis=1)
    sigma = draw_noncentered_scale(
        streams,
        model.priors.sigma_alpha,
        state.sigma_alpha,
        quad,
        lin,
        state.sigma_y**2,
        state.aux_alpha,
    )
    return state._replace(sigma_alpha=sigma, alpha=mean_alpha + sigma[:, None] * eta)


def log_joint(state: State, model: GaussianModel) -> np.ndarray:
    """Log joint density log p(y, alpha, beta, gamma, sigma_y, sigma_alpha), per chain.

    Improper priors contribute their unnormalized log density (0 or -log sigma).
    """
    d, pr = model.data, model.priors
    ss_y = residual_ss(state, model)
    ss_a = _group_ss(state, model)
    loglik = -0.5 * d.n * _LOG_2PI - d.n * np.log(state.sigma_y) - 0.5 * ss_y / state.sigma_y**2
    logp_alpha = (
        -0.5 * d.n_groups * _LOG_2PI
        - d.n_groups * np.log(state.sigma_alpha)
        - 0.5 * ss_a / state.sigma_alpha**2
    )
    return (
        loglik
        + logp_alpha
        + pr.beta.logpdf(state.beta)
        + pr.gamma.logpdf(state.gamma)
        + pr.sigma_y.logpdf(state.sigma_y)
        + pr.sigma_alpha.logpdf(state.sigma_alpha)
    )
