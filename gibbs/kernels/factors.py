"""Gibbs blocks of the varying-intercept model with further grouping factors (nested or crossed).

Model (DESIGN.md section 2, several grouping levels)::

    y_i      ~ N(alpha_j[i] + X_i beta + sum_{f crossed} b_f[f(i)], sigma_y^2)
    alpha_j  = U_j gamma + sum_{f nested} b_f[f(j)] + eta_j,    eta_j ~ N(0, sigma_alpha^2)
    b_f[l]   ~ N(0, sigma_f^2)                                   l = 1..J_f, for every factor f

A factor is *nested* when it is constant within every group (state above county: county
intercepts are centred on U_j gamma plus their state's effect) and *crossed* otherwise (its
effect enters each row directly). Both are the same linear model in the rows,
y = X beta + U[g] gamma + sum_f Z_f b_f + Z_g eta + e, so one kernel serves both.

The location block draws (beta, gamma, every b_f, every eta_j) jointly given the variances: first
the "small" block s = (beta, gamma, b_1..b_F) with eta integrated out (eta's precision is
diagonal, so the Schur complement costs O(J S^2) with S = p + q + sum_f J_f), then eta given s
(independent per group). Every sum over rows is a precomputed statistic, so an iteration costs
O(J S^2 + S^3) whatever n.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.kernels.gaussian import chain_dot
from gibbs.kernels.scales import draw_centered_scale, draw_collapsed_scale

if TYPE_CHECKING:
    from gibbs.priors import Priors

__all__ = [
    "FactorsModel",
    "FactorsState",
    "Factor",
    "collapsed_sigma_alpha_factors",
    "draw_factor_scales",
    "log_joint_factors",
    "update_factor_scales",
    "update_locations",
    "update_sigma_alpha_factors",
    "update_eta",
    "update_sigma_y_factors",
    "update_small",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True, eq=False)
class Factor:
    """A grouping factor besides the model's group: one level per row.

    Attributes
    ----------
    name : str
        Name (the dimension of its effects).
    codes : ndarray of int, shape (n,)
        Level of every row.
    levels : tuple
        Level labels.
    group_level : ndarray of int, shape (J,) or None
        The level of every group when the factor is nested (constant within every group, and
        every group has rows); ``None`` when it is crossed.
    """

    name: str
    codes: np.ndarray
    levels: tuple
    group_level: np.ndarray | None

    @property
    def nested(self) -> bool:
        """Whether the factor is constant within every group (a level above the groups)."""
        return self.group_level is not None

    @classmethod
    def from_labels(cls, name: str, labels, data: HierarchicalData) -> Factor:
        """Build a factor from one label per row, deciding whether it is nested in the groups."""
        import pandas as pd

        labels = np.asarray(labels, dtype=object)
        if labels.shape != (data.n,):
            raise ValueError(
                f"factor {name!r} has {labels.size} labels but the data have {data.n} rows"
            )
        if pd.isna(labels).any():
            bad = np.flatnonzero(pd.isna(labels))
            raise ValueError(
                f"factor {name!r} has {bad.size} missing label(s) (first at row {bad[0]})"
            )
        codes, levels = pd.factorize(labels, sort=True)
        if len(levels) < 2:
            raise ValueError(f"factor {name!r} has {len(levels)} level(s); it needs at least 2")
        J = data.n_groups
        lo = np.full(J, np.iinfo(np.int64).max)
        hi = np.full(J, -1)
        np.minimum.at(lo, data.group, codes)
        np.maximum.at(hi, data.group, codes)
        nested = bool(np.all(data.stats.n_j > 0) and np.all(lo == hi))
        return cls(
            name=name,
            codes=codes.astype(np.intp),
            levels=tuple(levels),
            group_level=lo.astype(np.intp) if nested else None,
        )


class FactorsState(NamedTuple):
    """Sampler state for a batch of chains.

    Attributes
    ----------
    alpha : ndarray, shape (chains, J)
        Group intercepts U_j gamma + nested effects + eta_j (derived from the others).
    eta : ndarray, shape (chains, J)
        Group deviations.
    beta, gamma : ndarray, shape (chains, p), (chains, q)
    effects : ndarray, shape (chains, sum_f J_f)
        Every factor's effects, factor after factor.
    sigma_y, sigma_alpha : ndarray, shape (chains,)
    sigma_f : ndarray, shape (chains, F)
        Standard deviations of the factors' effects.
    aux_y, aux_alpha : ndarray, shape (chains,)
    aux_f : ndarray, shape (chains, F)
        Half-t auxiliary variables (1 when unused).
    """

    alpha: np.ndarray
    eta: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    effects: np.ndarray
    sigma_y: np.ndarray
    sigma_alpha: np.ndarray
    sigma_f: np.ndarray
    aux_y: np.ndarray
    aux_alpha: np.ndarray
    aux_f: np.ndarray


@dataclass(frozen=True, eq=False)
class FactorsModel:
    """Data, factors, priors and the statistics every sweep reuses.

    Parameters
    ----------
    data : HierarchicalData
    factors : tuple of Factor
    priors : Priors
        Its ``factor_scales`` give each factor's scale prior (uniform when not named).
    """

    data: HierarchicalData
    factors: tuple[Factor, ...]
    priors: Priors

    def __post_init__(self) -> None:
        d, factors = self.data, tuple(self.factors)
        object.__setattr__(self, "factors", factors)
        names = [f.name for f in factors]
        if len(set(names)) != len(names) or d.group_dim in names:
            raise ValueError(f"factor names must be distinct and differ from the group: {names}")
        self.priors.check(d)
        self.priors.check_factors(factors)
        J, p, q = d.n_groups, d.p, d.q
        onehots = []
        for f in factors:
            z = np.zeros((d.n, len(f.levels)))
            z[np.arange(d.n), f.codes] = 1.0
            onehots.append(z)
        W = np.column_stack([d.X, d.U[d.group], *onehots])  # the "small" block's columns
        sizes = [len(f.levels) for f in factors]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
        B0 = np.stack([np.bincount(d.group, W[:, k], J) for k in range(W.shape[1])], axis=1)
        P_beta, Pm_beta = self.priors.beta.precision(p)
        P_gamma, Pm_gamma = self.priors.gamma.precision(q)
        S = W.shape[1]
        P_small = np.zeros((S, S))
        P_small[:p, :p], P_small[p : p + q, p : p + q] = P_beta, P_gamma
        cache = {
            "W": W,
            "C": W.T @ W,
            "c": W.T @ d.y,
            "B0": B0,
            "n_j": d.stats.n_j.astype(float),
            "c_eta": np.bincount(d.group, d.y, J),
            "yy": np.asarray(d.y @ d.y),
            "P_small": P_small,
            "Pm_small": np.concatenate([Pm_beta, Pm_gamma, np.zeros(S - p - q)]),
            "offsets": offsets,
        }
        for key, value in cache.items():
            value.setflags(write=False)
            object.__setattr__(self, key, value)

    @property
    def n_small(self) -> int:
        """Size of the (beta, gamma, effects) block."""
        return self.W.shape[1]

    def factor_effects(self, effects: np.ndarray, k: int) -> np.ndarray:
        """Return factor k's effects, shape (..., J_k)."""
        return effects[..., self.offsets[k] : self.offsets[k + 1]]

    def group_intercepts(self, gamma, effects, eta) -> np.ndarray:
        """Return alpha_j = U_j gamma + nested effects + eta_j, shape (..., J)."""
        # Chain by chain: one 2-D product over all chains rounds by the number of chains.
        alpha = chain_dot(gamma, self.data.U.T) + eta
        for k, f in enumerate(self.factors):
            if f.nested:
                alpha = alpha + self.factor_effects(effects, k)[..., f.group_level]
        return alpha

    def row_mean(self, beta, alpha, effects) -> np.ndarray:
        """Return E[y_i] at each draw, shape (..., n)."""
        mu = alpha[..., self.data.group] + chain_dot(beta, self.data.X.T)
        for k, f in enumerate(self.factors):
            if not f.nested:
                mu = mu + self.factor_effects(effects, k)[..., f.codes]
        return mu

    def with_outcomes(self, Y: np.ndarray) -> FactorsModel:
        """Return this model with one outcome vector per chain (Geweke and SBC batteries)."""
        Y = np.asarray(Y, dtype=float)
        clone = object.__new__(FactorsModel)
        clone.__dict__.update(self.__dict__)
        J = self.data.n_groups
        object.__setattr__(clone, "c", Y @ self.W)
        object.__setattr__(
            clone, "c_eta", np.stack([np.bincount(self.data.group, y, J) for y in Y])
        )
        object.__setattr__(clone, "yy", np.einsum("cn,cn->c", Y, Y))
        return clone


def _small_precision(state: FactorsState, model: FactorsModel) -> np.ndarray:
    """Prior precision of the small block per chain: beta's and gamma's, then 1/sigma_f^2."""
    C = state.sigma_y.shape[0]
    P = np.broadcast_to(model.P_small, (C, *model.P_small.shape)).copy()
    d = model.data.p + model.data.q
    for k in range(len(model.factors)):
        idx = np.arange(d + model.offsets[k], d + model.offsets[k + 1])
        P[:, idx, idx] += state.sigma_f[:, k, None] ** -2.0
    return P


def update_small(streams, state: FactorsState, model: FactorsModel) -> FactorsState:
    """Draw s = (beta, gamma, every factor's effects) with every eta_j integrated out.

    Precision P_s + C/s2 - B0^T D^-1 B0 / s2^2 and right-hand side Pm_s + c/s2 -
    B0^T D^-1 c_eta / s2^2, with D = diag(n_j / s2 + 1/sigma_alpha^2). Draw eta after it
    (:func:`update_eta`).
    """
    s2 = state.sigma_y**2
    D = model.n_j / s2[:, None] + state.sigma_alpha[:, None] ** -2.0  # (C, J)
    Bs = model.B0[None] / s2[:, None, None]  # (C, J, S)
    c_eta = np.broadcast_to(model.c_eta, D.shape)
    precision = (
        _small_precision(state, model)
        + model.C / s2[:, None, None]
        - np.einsum("cja,cj,cjb->cab", Bs, 1.0 / D, Bs)
    )
    rhs = (
        model.Pm_small
        + model.c / s2[:, None]
        - np.einsum("cja,cj->ca", Bs, c_eta / (s2[:, None] * D))
    )
    L = np.linalg.cholesky(precision)
    mean = np.linalg.solve(precision, rhs[..., None])[..., 0]
    z = streams.normal(model.n_small)
    small = mean + np.linalg.solve(np.swapaxes(L, -1, -2), z[..., None])[..., 0]
    p, q = model.data.p, model.data.q
    return state._replace(beta=small[:, :p], gamma=small[:, p : p + q], effects=small[:, p + q :])


def _group_residual_sums(state: FactorsState, model: FactorsModel) -> np.ndarray:
    """Return sum_{i in j} (y_i - W_i s) per chain and group, shape (C, J)."""
    small = np.concatenate([state.beta, state.gamma, state.effects], axis=1)
    c_eta = np.broadcast_to(model.c_eta, state.eta.shape)
    return c_eta - np.einsum("ja,ca->cj", model.B0, small)


def update_eta(streams, state: FactorsState, model: FactorsModel) -> FactorsState:
    """Draw every eta_j from N(r_j / (s2 D_j), 1 / D_j), r_j its group's residual sum."""
    s2 = state.sigma_y[:, None] ** 2
    D = model.n_j / s2 + state.sigma_alpha[:, None] ** -2.0
    resid = _group_residual_sums(state, model)
    eta = resid / (s2 * D) + streams.normal(model.data.n_groups) / np.sqrt(D)
    return state._replace(eta=eta, alpha=model.group_intercepts(state.gamma, state.effects, eta))


def update_locations(streams, state: FactorsState, model: FactorsModel) -> FactorsState:
    """Draw (beta, gamma, every factor's effects, every eta_j) jointly given the variances.

    :func:`update_small` (eta integrated out), then :func:`update_eta`: an exact joint draw.
    """
    return update_eta(streams, update_small(streams, state, model), model)


def collapsed_sigma_alpha_factors(
    streams, state: FactorsState, model: FactorsModel
) -> FactorsState:
    """Draw sigma_alpha with every eta_j integrated out (partially collapsed; eta drawn next).

    Given s and sigma_y, each group's mean residual r_j / n_j is N(0, sigma_y^2/n_j +
    sigma_alpha^2): one exact slice-sampling update on log sigma_alpha (as in the
    varying-intercept model's collapsed scheme).
    """
    obs = model.n_j > 0
    n = model.n_j[obs]
    rbar = _group_residual_sums(state, model)[:, obs] / n
    sigma = draw_collapsed_scale(
        streams,
        model.priors.sigma_alpha,
        state.sigma_alpha,
        rbar,
        state.sigma_y[:, None] ** 2 / n,
    )
    return state._replace(sigma_alpha=sigma)


def residual_ss_factors(state: FactorsState, model: FactorsModel) -> np.ndarray:
    """Return sum_i (y_i - E[y_i])^2 per chain, from the precomputed statistics."""
    small = np.concatenate([state.beta, state.gamma, state.effects], axis=1)
    c = np.broadcast_to(model.c, small.shape)
    c_eta = np.broadcast_to(model.c_eta, state.eta.shape)
    quad = (
        np.einsum("ca,ab,cb->c", small, model.C, small)
        + 2.0 * np.einsum("cj,ja,ca->c", state.eta, model.B0, small)
        + np.einsum("cj,j,cj->c", state.eta, model.n_j, state.eta)
    )
    cross = np.einsum("ca,ca->c", small, c) + np.einsum("cj,cj->c", state.eta, c_eta)
    return np.maximum(model.yy - 2.0 * cross + quad, 0.0)


def update_sigma_y_factors(streams, state: FactorsState, model: FactorsModel) -> FactorsState:
    """Draw sigma_y given the residual sum of squares over the n rows."""
    sigma, aux = draw_centered_scale(
        streams,
        model.priors.sigma_y,
        residual_ss_factors(state, model),
        model.data.n,
        state.aux_y,
    )
    return state._replace(sigma_y=sigma, aux_y=aux)


def update_sigma_alpha_factors(streams, state: FactorsState, model: FactorsModel) -> FactorsState:
    """Draw sigma_alpha given sum_j eta_j^2 over the J groups."""
    ss = np.sum(state.eta**2, axis=1)
    sigma, aux = draw_centered_scale(
        streams, model.priors.sigma_alpha, ss, model.data.n_groups, state.aux_alpha
    )
    return state._replace(sigma_alpha=sigma, aux_alpha=aux)


def draw_factor_scales(streams, priors, factors, effects_of, sigma_f, aux_f):
    """Draw each sigma_f given the sum of its J_f squared effects (``effects_of(k)``).

    Returns the new (sigma_f, aux_f), each (chains, F).
    """
    sigma_f, aux_f = sigma_f.copy(), aux_f.copy()
    for k, f in enumerate(factors):
        b = effects_of(k)
        sigma_f[:, k], aux_f[:, k] = draw_centered_scale(
            streams,
            priors.factor_scale(f.name),
            np.sum(b * b, axis=1),
            len(f.levels),
            aux_f[:, k],
        )
    return sigma_f, aux_f


def update_factor_scales(streams, state: FactorsState, model: FactorsModel) -> FactorsState:
    """Draw each sigma_f given the sum of its J_f squared effects."""
    sigma_f, aux_f = draw_factor_scales(
        streams,
        model.priors,
        model.factors,
        lambda k: model.factor_effects(state.effects, k),
        state.sigma_f,
        state.aux_f,
    )
    return state._replace(sigma_f=sigma_f, aux_f=aux_f)


def log_joint_factors(state: FactorsState, model: FactorsModel) -> np.ndarray:
    """Log joint density of y and every parameter, per chain (improper priors unnormalized)."""
    n, pr = model.data.n, model.priors
    s = state.sigma_y
    loglik = -0.5 * n * _LOG_2PI - n * np.log(s) - 0.5 * residual_ss_factors(state, model) / s**2

    def normal(x, sd):
        return np.sum(-0.5 * _LOG_2PI - np.log(sd[:, None]) - 0.5 * (x / sd[:, None]) ** 2, 1)

    lp = loglik + normal(state.eta, state.sigma_alpha)
    lp = lp + pr.beta.logpdf(state.beta) + pr.gamma.logpdf(state.gamma)
    lp = lp + pr.sigma_y.logpdf(state.sigma_y) + pr.sigma_alpha.logpdf(state.sigma_alpha)
    for k, f in enumerate(model.factors):
        b = model.factor_effects(state.effects, k)
        lp = lp + normal(b, state.sigma_f[:, k])
        lp = lp + model.priors.factor_scale(f.name).logpdf(state.sigma_f[:, k])
    return lp
