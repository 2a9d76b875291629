"""Gibbs blocks of the binomial varying-intercept models (logistic and probit).

Model::

    y_i     ~ Binomial(m_i, F(eta_i)),   eta_i = alpha_j[i] + X_i beta      i = 1..n
    alpha_j ~ N(U_j gamma, sigma_alpha^2)                                   j = 1..J

with F the logistic function or the standard normal CDF. Both data augmentations turn the
likelihood of eta, given the latent variables, into a Gaussian one: row i contributes
exp(r_i eta_i - w_i eta_i^2 / 2), a pseudo-observation r_i / w_i with precision w_i.

- logistic, Polya-Gamma (Polson, Scott & Windle 2013, theorem 1): omega_i ~ PG(m_i, eta_i),
  w_i = omega_i and r_i = y_i - m_i / 2;
- probit, Albert & Chib (1993): one utility per trial, z_ik ~ N(eta_i, 1) truncated to (0, inf)
  for the y_i successes and to (-inf, 0] for the m_i - y_i failures; w_i = m_i, r_i = sum_k z_ik.

Given (w, r) every block of the Gaussian model carries over with per-row precisions instead of
1 / sigma_y^2, computed from per-group weighted sums (O(n) per sweep: the latent draw touches
every row anyway). Blocks are pure ``update(streams, state, model) -> state`` functions acting on
all chains at once; the centered gamma and sigma_alpha draws are the Gaussian model's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.families import BINOMIAL_FAMILIES, binomial_loglik, check_outcome
from gibbs.kernels.gaussian import gaussian_draw, group_level_log_density, inverse_and_root
from gibbs.kernels.scales import draw_collapsed_scale, truncated_normal_positive
from gibbs.priors import Priors

__all__ = [
    "BinomialModel",
    "BinomialState",
    "latent_logistic",
    "latent_probit",
    "linear_predictor",
    "log_joint_binomial",
    "update_alpha_binomial",
    "update_beta_binomial",
    "update_beta_gamma_binomial",
    "collapsed_residuals",
    "collapsed_sigma_alpha_binomial",
    "with_latent",
]


class BinomialState(NamedTuple):
    """Sampler state of the binomial models for a batch of chains.

    Attributes
    ----------
    alpha : ndarray, shape (chains, J)
    beta : ndarray, shape (chains, p)
    gamma : ndarray, shape (chains, q)
    sigma_alpha, aux_alpha : ndarray, shape (chains,)
    w, r : ndarray, shape (chains, n)
        Latent precision and precision-weighted pseudo-response of every row.
    group_stats : tuple, optional
        Their per-group sums (W, R, sum w X), set with them by :func:`with_latent` so that the
        blocks of one sweep share them; ``None`` means "compute from w and r".
    """

    alpha: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    sigma_alpha: np.ndarray
    aux_alpha: np.ndarray
    w: np.ndarray
    r: np.ndarray
    group_stats: tuple | None = None


@dataclass(frozen=True, eq=False)
class BinomialModel:
    """Data, priors, family and the matrices every sweep reuses.

    Parameters
    ----------
    data : HierarchicalData
        Outcome ``y`` counts successes out of ``data.trials`` (0/1 when ``trials`` is None).
    priors : Priors
        ``sigma_y`` is ignored.
    family : {"logistic", "probit"}
    """

    data: HierarchicalData
    priors: Priors
    family: str

    def __post_init__(self) -> None:
        if self.family not in BINOMIAL_FAMILIES:
            raise ValueError(f"family must be one of {BINOMIAL_FAMILIES}, got {self.family!r}")
        check_outcome(self.data, self.family)
        self.priors.check(self.data, self.family)
        d, p, q = self.data, self.data.p, self.data.q
        cache = {}
        cache["trials"] = d.binomial_trials
        cache["D"] = np.column_stack([d.X, d.U[d.group]])
        cache["P_beta"], cache["Pm_beta"] = self.priors.beta.precision(p)
        cache["P_gamma"], cache["Pm_gamma"] = self.priors.gamma.precision(q)
        cache["UtU"] = d.U.T @ d.U
        cache["UtU_inv"], cache["UtU_root"] = inverse_and_root(cache["UtU"])
        cache["P_theta"] = np.block(
            [[cache["P_beta"], np.zeros((p, q))], [np.zeros((q, p)), cache["P_gamma"]]]
        )
        cache["Pm_theta"] = np.concatenate([cache["Pm_beta"], cache["Pm_gamma"]])
        cache["observed_groups"] = np.flatnonzero(d.stats.n_j > 0)
        m = cache["trials"].astype(np.intp)
        cache["bernoulli"] = np.array(np.all(m == 1))
        # Probit: one utility per trial; row_of_trial maps trials to rows, trial_rank numbers the
        # trials within a row (the first y_i of them are the successes).
        cache["row_starts"] = np.concatenate([[0], np.cumsum(m)[:-1]])
        cache["row_of_trial"] = np.repeat(np.arange(d.n), m)
        cache["trial_rank"] = np.arange(m.sum()) - np.repeat(cache["row_starts"], m)
        # Cells: rows that share a group and a covariate pattern share eta, so the likelihood
        # of alpha and beta needs only their summed successes and trials.
        cells, cell_of_row = np.unique(np.column_stack([d.group, d.X]), axis=0, return_inverse=True)
        cache["cell_of_row"] = cell_of_row.ravel()
        cache["cell_group"] = cells[:, 0].astype(np.intp)
        cache["cell_X"] = np.ascontiguousarray(cells[:, 1:])
        cache["cell_trials"] = np.bincount(cache["cell_of_row"], m, len(cells)).astype(float)
        for key, value in cache.items():
            value.setflags(write=False)
            object.__setattr__(self, key, value)
        self._set_outcomes(d.y[None, :])

    def _set_outcomes(self, Y: np.ndarray) -> None:
        object.__setattr__(self, "Y", Y)
        object.__setattr__(self, "kappa", Y - 0.5 * self.trials)
        object.__setattr__(self, "success", self.trial_rank < Y[:, self.row_of_trial])

    def with_outcomes(self, Y: np.ndarray) -> BinomialModel:
        """Return this model with one outcome vector per chain, shape (chains, n).

        Used by the Geweke and SBC batteries to update many simulated datasets at once.
        """
        new = object.__new__(BinomialModel)
        new.__dict__.update(self.__dict__)
        new._set_outcomes(np.asarray(Y, dtype=float))
        return new


# --------------------------------------------------------------------------- helpers
def linear_predictor(state: BinomialState, model: BinomialModel) -> np.ndarray:
    """eta_i = alpha_j[i] + X_i beta for every chain, shape (chains, n)."""
    eta = state.alpha[:, model.data.group]
    if model.data.p:
        # A stacked product keeps each chain's rounding independent of the batch size.
        eta = eta + np.matmul(state.beta[:, None, :], model.data.X.T)[:, 0]
    return eta


def _group_sums(A: np.ndarray, model: BinomialModel) -> np.ndarray:
    """Per-chain sums of the rows of ``A`` (chains, n) within each group: (chains, J)."""
    C, J = A.shape[0], model.data.n_groups
    index = model.data.group + J * np.arange(C)[:, None]
    return np.bincount(index.ravel(), A.ravel(), C * J).reshape(C, J)


def with_latent(
    state: BinomialState, model: BinomialModel, w: np.ndarray, r: np.ndarray
) -> BinomialState:
    """Return ``state`` with new latent variables and their per-group sums.

    Every block that changes w or r goes through here, so that the sums, which the three
    Gaussian blocks of a sweep all need, are computed once per sweep.
    """
    state = state._replace(w=w, r=r, group_stats=None)
    return state._replace(group_stats=_weighted_group_stats(state, model))


def _weighted_group_stats(state: BinomialState, model: BinomialModel):
    """W_j = sum w, R_j = sum r and WX_j = sum w X (chains, J, p) over each group's rows."""
    if state.group_stats is not None:
        return state.group_stats
    W = _group_sums(state.w, model)
    R = _group_sums(np.broadcast_to(state.r, state.w.shape), model)
    X = model.data.X
    WX = np.empty(W.shape + (model.data.p,))  # p may be 0 (intercept-only model)
    for k in range(model.data.p):
        WX[..., k] = _group_sums(state.w * X[:, k], model)
    return W, R, WX


def _group_offsets(state: BinomialState, WX: np.ndarray) -> np.ndarray:
    """sum_{i in j} w_i X_i beta, per chain and group."""
    return np.matmul(WX, state.beta[:, :, None])[..., 0]


# --------------------------------------------------------------------------- latent blocks
def latent_logistic(streams, state: BinomialState, model: BinomialModel) -> BinomialState:
    """Draw omega_i ~ PG(m_i, eta_i) with the ``polyagamma`` package, chain by chain.

    Each chain uses its own ``latent`` generator, so its draws do not depend on the others.
    """
    # The samplers' one dependency beyond numpy and scipy (a maintained Polya-Gamma sampler
    # rather than a new one), imported where it is needed.
    from polyagamma import random_polyagamma

    eta = linear_predictor(state, model)
    omega = np.empty(eta.shape)
    for c, gen in enumerate(streams.latent):
        random_polyagamma(model.trials, eta[c], out=omega[c], random_state=gen)
    return with_latent(state, model, omega, np.broadcast_to(model.kappa, eta.shape))


def latent_probit(streams, state: BinomialState, model: BinomialModel) -> BinomialState:
    """Draw the Albert-Chib utilities, one per trial, and sum them per row."""
    eta = linear_predictor(state, model)
    eta_t = eta if model.bernoulli else eta[:, model.row_of_trial]
    u = streams.uniform(eta_t.shape[1])
    success = np.broadcast_to(model.success, eta_t.shape)
    # N(eta, 1) truncated to (0, inf), or minus N(-eta, 1) truncated to (0, inf) for a failure.
    sign = np.where(success, 1.0, -1.0)
    z = sign * truncated_normal_positive(sign * eta_t, 1.0, u)
    r = z if model.bernoulli else np.add.reduceat(z, model.row_starts, axis=1)
    return with_latent(state, model, np.broadcast_to(model.trials, eta.shape), r)


LATENT = {"logistic": latent_logistic, "probit": latent_probit}


# --------------------------------------------------------------------------- Gaussian blocks
def update_alpha_binomial(streams, state: BinomialState, model: BinomialModel) -> BinomialState:
    """alpha_j ~ N(V_j (R_j - sum_j w X beta + U_j gamma / sigma_alpha^2), V_j).

    ``V_j = 1 / (W_j + 1 / sigma_alpha^2)``; a group without rows draws from its prior.
    """
    W, R, WX = _weighted_group_stats(state, model)
    prec_a = state.sigma_alpha[:, None] ** -2.0
    precision = W + prec_a
    mean_alpha = np.matmul(state.gamma[:, None, :], model.data.U.T)[:, 0]
    b = R - _group_offsets(state, WX) + mean_alpha * prec_a
    z = streams.normal(model.data.n_groups)
    return state._replace(alpha=b / precision + z / np.sqrt(precision))


def update_beta_binomial(streams, state: BinomialState, model: BinomialModel) -> BinomialState:
    """Draw beta | alpha, latent: weighted regression of the pseudo-response on X (normal prior)."""
    if model.data.p == 0:
        return state
    X = model.data.X
    Q = np.matmul(X.T, state.w[:, :, None] * X) + model.P_beta
    resid = state.r - state.w * state.alpha[:, model.data.group]
    b = np.matmul(X.T, resid[:, :, None])[..., 0] + model.Pm_beta
    return state._replace(beta=gaussian_draw(streams.normal(model.data.p), Q, b))


def update_beta_gamma_binomial(
    streams, state: BinomialState, model: BinomialModel
) -> BinomialState:
    """Draw (beta, gamma) jointly with alpha integrated out, given the latent variables.

    Group j's pseudo-observations are N(D_j theta, diag(1/w) + sigma_alpha^2 11^T), whose inverse
    is diag(w) - c_j w w^T with c_j = sigma_alpha^2 / (1 + sigma_alpha^2 W_j), so the normal
    equations need D^T diag(w) D and the per-group sums S_j = D_j^T w.
    """
    d, p = model.data, model.data.p
    W, R, WX = _weighted_group_stats(state, model)
    S = np.concatenate([WX, W[:, :, None] * d.U], axis=-1)  # (C, J, p + q)
    var_a = state.sigma_alpha[:, None] ** 2
    c = var_a / (1.0 + var_a * W)
    D = model.D
    Q = np.matmul(D.T, state.w[:, :, None] * D) - np.matmul(np.swapaxes(S * c[..., None], 1, 2), S)
    b = np.matmul(D.T, state.r[:, :, None])[..., 0] - np.matmul((c * R)[:, None, :], S)[:, 0]
    theta = gaussian_draw(streams.normal(D.shape[1]), Q + model.P_theta, b + model.Pm_theta)
    return state._replace(beta=theta[:, :p], gamma=theta[:, p:])


def collapsed_sigma_alpha_binomial(
    streams, state: BinomialState, model: BinomialModel
) -> BinomialState:
    """Draw sigma_alpha with alpha integrated out, given (beta, gamma) and the latent variables.

    Group j's precision-weighted mean pseudo-residual, (R_j - sum w X beta) / W_j - U_j gamma, is
    N(0, 1 / W_j + sigma_alpha^2); one exact slice step on log sigma_alpha, for any scale prior.
    As in the Gaussian model, alpha must be drawn next.
    """
    resid, W_obs = collapsed_residuals(state, model)
    sigma = draw_collapsed_scale(
        streams, model.priors.sigma_alpha, state.sigma_alpha, resid, 1.0 / W_obs
    )
    return state._replace(sigma_alpha=sigma)


def collapsed_residuals(
    state: BinomialState, model: BinomialModel
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean pseudo-residual and total weight W_j of every group with rows, per chain."""
    W, R, WX = _weighted_group_stats(state, model)
    obs = model.observed_groups
    mean_alpha = np.matmul(state.gamma[:, None, :], model.data.U[obs].T)[:, 0]
    resid = (R[:, obs] - _group_offsets(state, WX)[:, obs]) / W[:, obs] - mean_alpha
    return resid, W[:, obs]


# --------------------------------------------------------------------------- log density
def log_joint_binomial(state: BinomialState, model: BinomialModel) -> np.ndarray:
    """Log joint density log p(y, alpha, beta, gamma, sigma_alpha), per chain."""
    pr = model.priors
    eta = linear_predictor(state, model)
    loglik = binomial_loglik(model.family, eta, model.Y, model.trials).sum(axis=1)
    return (
        loglik
        + group_level_log_density(state, model)
        + pr.beta.logpdf(state.beta)
        + pr.gamma.logpdf(state.gamma)
        + pr.sigma_alpha.logpdf(state.sigma_alpha)
    )
