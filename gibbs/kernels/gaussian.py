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
from gibbs.kernels.scales import (
    draw_centered_scale,
    draw_collapsed_scale,
    draw_noncentered_scale,
    truncated_normal_positive,
)
from gibbs.priors import Flat, HalfNormal, Priors, UniformSigma

__all__ = [
    "GaussianModel",
    "State",
    "asis_sigma_alpha",
    "chain_dot",
    "collapsed_sigma_alpha",
    "draw_alpha",
    "gaussian_draw",
    "group_level_log_density",
    "group_ss",
    "inverse_and_root",
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


def inverse_and_root(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
        cache["XtX_inv"], cache["XtX_root"] = inverse_and_root(s.XtX)
        cache["UtU_inv"], cache["UtU_root"] = inverse_and_root(cache["UtU"])
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
        cache["observed_groups"] = np.flatnonzero(s.n_j > 0)
        for key, value in cache.items():
            value.setflags(write=False)
            object.__setattr__(self, key, value)

    def with_outcomes(self, Y: np.ndarray) -> GaussianModel:
        """Return this model with a different outcome vector for every chain.

        Only the y-dependent statistics change (group sums of y, X'y, y'y and the marginal normal
        equations' right-hand side), each gaining a leading chain axis; every kernel accepts them.
        This is how the Geweke and SBC batteries update many simulated datasets at once.

        Parameters
        ----------
        Y : ndarray, shape (chains, n)
            One outcome vector per chain, for the same X, groups and U.
        """
        Y = np.asarray(Y, dtype=float)
        d, s = self.data, self.data.stats
        indicator = np.zeros((d.n, d.n_groups))
        indicator[np.arange(d.n), d.group] = 1.0
        sum_y = Y @ indicator
        Xty = Y @ d.X
        stats = s._replace(sum_y=sum_y, Xty=Xty, yty=np.sum(Y * Y, axis=1))
        new = object.__new__(GaussianModel)
        # Lazily computed y-dependent results (keys "_cache_*") do not carry over.
        new.__dict__.update({k: v for k, v in self.__dict__.items() if not k.startswith("_cache_")})
        object.__setattr__(new, "_stats", stats)
        object.__setattr__(new, "h", np.concatenate([Xty, sum_y @ d.U], axis=1))
        return new

    @property
    def stats(self):
        """Sufficient statistics (per chain after :meth:`with_outcomes`)."""
        return self.__dict__.get("_stats", self.data.stats)


# --------------------------------------------------------------------------- helpers
def chain_dot(A: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Row-by-row product ``A[c] @ M`` for a batch of chains (any leading axes).

    A stacked matmul runs one small product per chain, so chain c's result does not depend on how
    many chains share the batch (a single 2-D BLAS call may round differently by batch size).
    """
    if M.ndim == 1:
        return np.matmul(A[..., None, :], M[:, None])[..., 0, 0]
    return np.matmul(A[..., None, :], M)[..., 0, :]


def gaussian_draw(z: np.ndarray, Q: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Draw N(Q^{-1} b, Q^{-1}) per chain from standard normals ``z`` (chains, d).

    With Q = L L^T and W = L^{-1}: theta = W^T (W b + z). Two LAPACK calls per batch (Cholesky and
    a triangular inverse) and two small stacked products.
    """
    if Q.shape[-1] == 0:
        return np.zeros(b.shape)
    W = np.linalg.inv(np.linalg.cholesky(Q))
    w = np.matmul(W, b[..., None])[..., 0] + z
    return np.matmul(np.swapaxes(W, -1, -2), w[..., None])[..., 0]


def residual_ss(state: State, model: GaussianModel) -> np.ndarray:
    """Sum over rows of (y_i - alpha_j[i] - X_i beta)^2 from sufficient statistics, per chain.

    Expanded as y'y - 2 beta'X'y + beta'X'X beta
    + sum_j alpha_j (n_j alpha_j - 2 (S_j - sumX_j beta)).
    """
    s = model.stats
    alpha, beta = state.alpha, state.beta
    group_resid = s.sum_y - chain_dot(beta, s.sum_X.T)  # (chains, J): S_j - sumX_j beta
    ss = (
        s.yty
        + np.sum((chain_dot(beta, s.XtX) - 2.0 * s.Xty) * beta, axis=1)
        + np.sum(alpha * (s.n_j * alpha - 2.0 * group_resid), axis=1)
    )
    return np.maximum(ss, 0.0)


def group_ss(state: State, model: GaussianModel) -> np.ndarray:
    """Sum over the J groups of (alpha_j - U_j gamma)^2, per chain."""
    dev = state.alpha - chain_dot(state.gamma, model.data.U.T)
    return np.sum(dev * dev, axis=1)


# --------------------------------------------------------------------------- blocks
def update_alpha(streams, state: State, model: GaussianModel) -> State:
    """Step 1: alpha_j ~ N(V_j ((S_j - sumX_j beta) / sigma_y^2 + U_j gamma / sigma_alpha^2), V_j).

    ``V_j = 1 / (n_j / sigma_y^2 + 1 / sigma_alpha^2)``; a group without rows draws from its prior.
    """
    z = streams.normal(model.data.n_groups)
    alpha = draw_alpha(model, state.beta, state.gamma, state.sigma_y, state.sigma_alpha, z)
    return state._replace(alpha=alpha)


def draw_alpha(model: GaussianModel, beta, gamma, sigma_y, sigma_alpha, z) -> np.ndarray:
    """Draw alpha as :func:`update_alpha` does, from standard normals ``z``, for any leading axes.

    ``beta`` (..., p), ``gamma`` (..., q), the scales (...) and ``z`` (..., J) share their leading
    axes, the first of which is the chain (or outcome row); the fully collapsed sweep draws many
    iterations at once with a second one.
    """
    s, U = model.stats, model.data.U
    sum_y = s.sum_y
    if sum_y.ndim == 2:  # one outcome vector per chain: broadcast over the further axes
        sum_y = sum_y.reshape(sum_y.shape[0], *([1] * (beta.ndim - 2)), -1)
    prec_y = sigma_y[..., None] ** -2.0
    prec_a = sigma_alpha[..., None] ** -2.0
    precision = s.n_j * prec_y + prec_a
    b = (sum_y - chain_dot(beta, s.sum_X.T)) * prec_y + chain_dot(gamma, U.T) * prec_a
    return b / precision + z / np.sqrt(precision)


def update_beta(streams, state: State, model: GaussianModel) -> State:
    """Step 2: beta | alpha, sigma_y, y: regression of y - alpha_j[i] on X (with X^T, not X)."""
    s = model.stats
    if model.data.p == 0:
        return state
    r = s.Xty - chain_dot(state.alpha, s.sum_X)  # X^T (y - alpha_j[i])
    z = streams.normal(model.data.p)
    if isinstance(model.priors.beta, Flat):
        beta = chain_dot(r, model.XtX_inv.T) + state.sigma_y[:, None] * chain_dot(
            z, model.XtX_root.T
        )
    else:
        prec_y = state.sigma_y[:, None, None] ** -2.0
        beta = gaussian_draw(z, s.XtX * prec_y + model.P_beta, r * prec_y[:, 0] + model.Pm_beta)
    return state._replace(beta=beta)


def update_gamma(streams, state: State, model: GaussianModel) -> State:
    """Step 3: gamma | alpha, sigma_alpha: regression of alpha on U (with U^T, not U)."""
    U = model.data.U
    r = chain_dot(state.alpha, U)  # U^T alpha
    z = streams.normal(model.data.q)
    if isinstance(model.priors.gamma, Flat):
        gamma = chain_dot(r, model.UtU_inv.T) + state.sigma_alpha[:, None] * chain_dot(
            z, model.UtU_root.T
        )
    else:
        prec_a = state.sigma_alpha[:, None, None] ** -2.0
        gamma = gaussian_draw(
            z, model.UtU * prec_a + model.P_gamma, r * prec_a[:, 0] + model.Pm_gamma
        )
    return state._replace(gamma=gamma)


def update_beta_gamma_marginal(streams, state: State, model: GaussianModel) -> State:
    """Draw (beta, gamma) jointly with alpha integrated out.

    Within group j the rows are N(D_j theta, sigma_y^2 I + sigma_alpha^2 11^T), whose inverse is
    (I - c_j 11^T) / sigma_y^2 with c_j = sigma_alpha^2 / (sigma_y^2 + n_j sigma_alpha^2), so the
    normal equations need only the per-group column sums s_j of D_j = [X_j, 1 U_j].
    """
    s = model.stats
    p = model.data.p
    var_y = state.sigma_y**2
    var_a = state.sigma_alpha**2
    c = var_a[:, None] / (var_y[:, None] + s.n_j * var_a[:, None])  # (chains, J)
    d = model.M.shape[0]
    weighted = chain_dot(c, model.group_outer.reshape(-1, d * d)).reshape(-1, d, d)
    Q = (model.M - weighted) / var_y[:, None, None]
    b = (model.h - chain_dot(c * s.sum_y, model.group_sums)) / var_y[:, None]
    theta = gaussian_draw(streams.normal(p + model.data.q), Q + model.P_theta, b + model.Pm_theta)
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
        group_ss(state, model),
        model.data.n_groups,
        state.aux_alpha,
    )
    return state._replace(sigma_alpha=sigma, aux_alpha=aux)


def asis_sigma_alpha(streams, state: State, model: GaussianModel) -> State:
    """Interweave (Yu & Meng 2011) a non-centered draw of sigma_alpha.

    With eta_j = (alpha_j - U_j gamma) / sigma_alpha held fixed the model is the regression
    y_i = X_i beta + U_j[i] gamma + sigma_alpha eta_j[i] + e_i, so sigma_alpha is a regression
    coefficient. For flat/normal location priors with a uniform or half-normal prior on sigma_alpha
    the coefficients (beta, gamma, sigma_alpha) are drawn jointly from that Gaussian regression
    truncated to sigma_alpha > 0 (sigma_alpha from its truncated marginal, then beta and gamma
    given it), which removes the confounding of sigma_alpha with the intercept. For other priors
    sigma_alpha alone gets an exact slice-sampling step. Alternating this with the centered draw
    keeps sigma_alpha mixing when it is near zero, where the centered chain alone sticks.
    """
    s, U = model.stats, model.data.U
    mean_alpha = chain_dot(state.gamma, U.T)
    eta = (state.alpha - mean_alpha) / state.sigma_alpha[:, None]
    prior = model.priors.sigma_alpha
    var_y = state.sigma_y**2
    if isinstance(prior, UniformSigma | HalfNormal):
        beta, gamma, sigma = _noncentered_regression(streams, state, model, eta, var_y)
        return state._replace(
            beta=beta,
            gamma=gamma,
            sigma_alpha=sigma,
            alpha=chain_dot(gamma, U.T) + sigma[:, None] * eta,
        )
    R = s.sum_y - chain_dot(state.beta, s.sum_X.T) - s.n_j * mean_alpha
    quad = chain_dot(eta * eta, s.n_j)
    lin = np.sum(eta * R, axis=1)
    sigma = draw_noncentered_scale(
        streams, prior, state.sigma_alpha, quad, lin, var_y, state.aux_alpha
    )
    return state._replace(sigma_alpha=sigma, alpha=mean_alpha + sigma[:, None] * eta)


def _noncentered_regression(streams, state: State, model: GaussianModel, eta, var_y):
    """Joint draw of (beta, gamma, sigma_alpha) given eta in the non-centered regression."""
    s, U = model.stats, model.data.U
    d = model.M.shape[0]
    C = eta.shape[0]
    n_eta = s.n_j * eta
    # Normal equations of the design [X_i, U_j[i], eta_j[i]] from group sums.
    cross = np.concatenate([chain_dot(eta, s.sum_X), chain_dot(n_eta, U)], axis=1)  # (C, d)
    Q = np.empty((C, d + 1, d + 1))
    Q[:, :d, :d] = model.M
    Q[:, :d, d] = cross
    Q[:, d, :d] = cross
    Q[:, d, d] = chain_dot(eta * n_eta, np.ones(eta.shape[1]))
    b = np.empty((C, d + 1))
    b[:, :d] = model.h
    b[:, d] = np.sum(eta * s.sum_y, axis=-1)
    Q /= var_y[:, None, None]
    b /= var_y[:, None]
    Q[:, :d, :d] += model.P_theta
    b[:, :d] += model.Pm_theta
    if isinstance(model.priors.sigma_alpha, HalfNormal):
        Q[:, d, d] += model.priors.sigma_alpha.sigma**-2.0
    cov = np.linalg.inv(Q)
    mean = np.einsum("cab,cb->ca", cov, b)
    sd_sigma = np.sqrt(cov[:, d, d])
    sigma = truncated_normal_positive(mean[:, d], sd_sigma, streams.uniform(1)[:, 0])
    # (beta, gamma) | sigma_alpha: precision Q_11, mean Q_11^{-1} (b_1 - Q_12 sigma).
    theta = gaussian_draw(streams.normal(d), Q[:, :d, :d], b[:, :d] - Q[:, :d, d] * sigma[:, None])
    p = model.data.p
    return theta[:, :p], theta[:, p:], sigma


def collapsed_sigma_alpha(streams, state: State, model: GaussianModel) -> State:
    """Draw sigma_alpha with alpha integrated out (a partially collapsed Gibbs step).

    Given beta, gamma and sigma_y, the residual mean of each group with data,
    rbar_j = (S_j - sumX_j beta) / n_j - U_j gamma, is N(0, sigma_y^2 / n_j + sigma_alpha^2), so

        p(sigma_alpha | beta, gamma, sigma_y, y)
            = p(sigma_alpha) prod_j N(rbar_j | 0, sigma_y^2 / n_j + sigma_alpha^2),

    drawn by one exact slice-sampling update on log sigma_alpha, for any scale prior. Alpha must be
    drawn after this step (and before anything that conditions on it): the sweep
    (beta, gamma) -> sigma_alpha -> alpha -> sigma_y is then a valid partially collapsed sampler
    (van Dyk & Park 2008).
    """
    s, U = model.stats, model.data.U
    obs = model.observed_groups
    n = s.n_j[obs]
    rbar = (s.sum_y[..., obs] - chain_dot(state.beta, s.sum_X[obs].T)) / n - chain_dot(
        state.gamma, U[obs].T
    )
    sigma = draw_collapsed_scale(
        streams, model.priors.sigma_alpha, state.sigma_alpha, rbar, state.sigma_y[:, None] ** 2 / n
    )
    return state._replace(sigma_alpha=sigma)


def group_level_log_density(state, model) -> np.ndarray:
    """Sum over groups of log N(alpha_j | U_j gamma, sigma_alpha^2), per chain (any family)."""
    J = model.data.n_groups
    ss_a = group_ss(state, model)
    return -0.5 * J * _LOG_2PI - J * np.log(state.sigma_alpha) - 0.5 * ss_a / state.sigma_alpha**2


def log_joint(state: State, model: GaussianModel) -> np.ndarray:
    """Log joint density log p(y, alpha, beta, gamma, sigma_y, sigma_alpha), per chain.

    Improper priors contribute their unnormalized log density (0 or -log sigma).
    """
    d, pr = model.data, model.priors
    ss_y = residual_ss(state, model)
    loglik = -0.5 * d.n * _LOG_2PI - d.n * np.log(state.sigma_y) - 0.5 * ss_y / state.sigma_y**2
    logp_alpha = group_level_log_density(state, model)
    return (
        loglik
        + logp_alpha
        + pr.beta.logpdf(state.beta)
        + pr.gamma.logpdf(state.gamma)
        + pr.sigma_y.logpdf(state.sigma_y)
        + pr.sigma_alpha.logpdf(state.sigma_alpha)
    )
