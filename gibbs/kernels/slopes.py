"""Gibbs blocks of the Gaussian varying-slopes model.

Model (DESIGN.md section 2, extended)::

    y_i     ~ N(Z_i alpha_j[i] + X_i beta, sigma_y^2)       i = 1..n
    alpha_j ~ N(Gamma^T U_j, Sigma)                          j = 1..J

Z_i = (1, x_i,s for the varying columns s) holds the K varying coefficients' columns (an
intercept and K - 1 slopes); X_i the remaining, non-varying predictors; U_j the L group-level
predictors (one of them the constant column). Gamma is L x K, but as in lme4 the group-level
predictors enter the intercept's mean only: column k > 0 of Gamma is zero except in the constant
column's row, which holds the mean slope. (A slope that depends on u_j is the cross-level
interaction x * u, a non-varying column of X: the same model.) Priors:
:class:`gibbs.slopes.SlopesPriors`.

As in the varying-intercept model, every block uses per-group sufficient statistics of the
design W = [Z, X] (G_j = W_j^T W_j, c_j = W_j^T y_j), so an iteration costs O(J (K + p)^3) whatever
n. Blocks are pure functions ``update(streams, state, model) -> state`` over all chains at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from gibbs.covariance import inverse_and_logdet
from gibbs.data import HierarchicalData
from gibbs.kernels.gaussian import chain_dot
from gibbs.kernels.scales import draw_centered_scale, slice_cholesky

if TYPE_CHECKING:
    from gibbs.priors import SlopesPriors

__all__ = [
    "SlopesModel",
    "SlopesState",
    "collapsed_sigma_slopes",
    "collapsed_sigma_step",
    "group_means",
    "log_joint_slopes",
    "residual_ss_slopes",
    "update_alpha_slopes",
    "update_beta_gamma_marginal_slopes",
    "update_beta_slopes",
    "update_gamma_slopes",
    "update_sigma_slopes",
    "update_sigma_y_slopes",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


class SlopesState(NamedTuple):
    """Sampler state for a batch of chains.

    Attributes
    ----------
    alpha : ndarray, shape (chains, J, K)
        Varying coefficients (intercept first).
    beta : ndarray, shape (chains, p)
        Coefficients of the non-varying predictors.
    gamma : ndarray, shape (chains, L, K)
        Group-level coefficients Gamma.
    sigma_y : ndarray, shape (chains,)
    Sigma : ndarray, shape (chains, K, K)
    aux_y : ndarray, shape (chains,)
        Auxiliary variable of a half-t prior on sigma_y (1 when unused).
    aux_Sigma : ndarray, shape (chains, K)
        Huang-Wand auxiliary variables a_k (1 when unused).
    """

    alpha: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    sigma_y: np.ndarray
    Sigma: np.ndarray
    aux_y: np.ndarray
    aux_Sigma: np.ndarray


def _group_sums(group: np.ndarray, values: np.ndarray, J: int) -> np.ndarray:
    """Per-group sums of the columns of ``values`` (n, m) -> (J, m)."""
    return np.stack([np.bincount(group, values[:, k], J) for k in range(values.shape[1])], axis=1)


def _mvn_draw(streams, precision: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Draw N(P^-1 rhs, P^-1) for stacked precisions P (..., d, d) with chains first."""
    L = np.linalg.cholesky(precision)
    mean = np.linalg.solve(precision, rhs[..., None])[..., 0]
    shape = rhs.shape
    z = streams.normal(int(np.prod(shape[1:]))).reshape(shape)
    return mean + np.linalg.solve(np.swapaxes(L, -1, -2), z[..., None])[..., 0]


@dataclass(frozen=True, eq=False)
class SlopesModel:
    """Data, varying columns, priors and the per-group statistics every sweep reuses.

    Parameters
    ----------
    data : HierarchicalData
    slopes : tuple of str
        Columns of ``data.X`` whose coefficients vary by group (besides the intercept).
    priors : SlopesPriors
    """

    data: HierarchicalData
    slopes: tuple[str, ...]
    priors: SlopesPriors

    def __post_init__(self) -> None:
        d = self.data
        slopes = tuple(self.slopes)
        object.__setattr__(self, "slopes", slopes)
        unknown = [s for s in slopes if s not in d.x_names]
        if unknown:
            raise ValueError(
                f"varying slopes {unknown} are not columns of X; X has {list(d.x_names)}"
            )
        if len(set(slopes)) != len(slopes):
            raise ValueError(f"varying slopes repeat a column: {list(slopes)}")
        self.priors.check(d, len(slopes) + 1)
        ones = np.flatnonzero(np.all(d.U == 1.0, axis=0))
        if ones.size == 0:
            raise ValueError(
                "varying slopes need a constant (intercept) column in U: the mean slopes are its "
                "coefficients"
            )
        z_idx = [list(d.x_names).index(s) for s in slopes]
        f_idx = [k for k in range(d.p) if k not in z_idx]
        Z = np.column_stack([np.ones(d.n), d.X[:, z_idx]])
        X = d.X[:, f_idx]
        W = np.column_stack([Z, X])
        K, p, L, J = Z.shape[1], X.shape[1], d.q, d.n_groups
        D = K + p
        G = np.empty((J, D, D))
        for a in range(D):
            for b in range(a, D):
                G[:, a, b] = G[:, b, a] = np.bincount(d.group, W[:, a] * W[:, b], J)
        # Free elements of Gamma (row-major): the intercept's column, and the constant row.
        free = np.zeros((L, K), dtype=bool)
        free[:, 0] = True
        free[ones[0], :] = True
        free_idx = np.flatnonzero(free.ravel())
        F = free_idx.size
        # T_j maps theta = (beta, free Gamma) to group j's mean coefficients on W's columns.
        T = np.zeros((J, D, p + F))
        for pos, flat in enumerate(free_idx):
            row, k = divmod(int(flat), K)
            T[:, k, p + pos] = d.U[:, row]
        T[:, K:, :p] = np.eye(p)
        cache = {
            "Z": Z,
            "X": X,
            "x_idx": np.asarray(f_idx, dtype=np.intp),
            "G": G,
            "c": _group_sums(d.group, W * d.y[:, None], J),
            "yy": np.asarray(d.y @ d.y),
            "yy_j": np.bincount(d.group, d.y * d.y, J),
            "T": T,
            "UtU": d.U.T @ d.U,
            "free_idx": free_idx,
        }
        cache["P_beta"], cache["Pm_beta"] = self.priors.beta.precision(p)
        cache["P_gamma"], cache["Pm_gamma"] = self.priors.gamma.precision(F)
        cache["P_theta"] = np.block(
            [[cache["P_beta"], np.zeros((p, F))], [np.zeros((F, p)), cache["P_gamma"]]]
        )
        cache["Pm_theta"] = np.concatenate([cache["Pm_beta"], cache["Pm_gamma"]])
        for key, value in cache.items():
            value.setflags(write=False)
            object.__setattr__(self, key, value)
        object.__setattr__(self, "intercept_row", int(ones[0]))

    @property
    def K(self) -> int:
        """Number of varying coefficients per group (intercept and slopes)."""
        return self.Z.shape[1]

    def scatter_gamma(self, free: np.ndarray) -> np.ndarray:
        """Return Gamma (chains, L, K) from its free elements (chains, F); the rest are zero."""
        out = np.zeros((free.shape[0], self.data.q * self.K))
        out[:, self.free_idx] = free
        return out.reshape(free.shape[0], self.data.q, self.K)

    def free_gamma(self, gamma: np.ndarray) -> np.ndarray:
        """Return the free elements of Gamma, shape (..., F)."""
        return gamma.reshape(*gamma.shape[:-2], -1)[..., self.free_idx]

    @property
    def p(self) -> int:
        """Number of non-varying predictors."""
        return self.X.shape[1]

    @property
    def effect_names(self) -> list[str]:
        """Names of the varying coefficients."""
        return ["Intercept", *self.slopes]

    @property
    def fixed_names(self) -> list[str]:
        """Names of the non-varying predictors."""
        return [self.data.x_names[k] for k in self.x_idx]

    def with_outcomes(self, Y: np.ndarray) -> SlopesModel:
        """Return this model with one outcome vector per chain (for Geweke and SBC batteries).

        Parameters
        ----------
        Y : ndarray, shape (chains, n)
        """
        Y = np.asarray(Y, dtype=float)
        W = np.column_stack([self.Z, self.X])
        clone = object.__new__(SlopesModel)
        clone.__dict__.update(self.__dict__)
        J = self.data.n_groups
        c = np.stack(
            [
                np.stack(
                    [np.bincount(self.data.group, W[:, k] * y, J) for k in range(W.shape[1])], 1
                )
                for y in Y
            ]
        )
        object.__setattr__(clone, "c", c)
        object.__setattr__(clone, "yy", np.einsum("cn,cn->c", Y, Y))
        yy_j = np.stack([np.bincount(self.data.group, y * y, J) for y in Y])
        object.__setattr__(clone, "yy_j", yy_j)
        return clone

    def mean(self, state: SlopesState) -> np.ndarray:
        """Mean of y_i at each chain's state, shape (chains, n)."""
        mu = np.einsum("ik,cik->ci", self.Z, state.alpha[:, self.data.group])
        return mu + chain_dot(state.beta, self.X.T)  # chain by chain: see chain_dot


def group_means(state: SlopesState, model: SlopesModel) -> np.ndarray:
    """Return Gamma^T U_j for every chain and group, shape (chains, J, K)."""
    return np.einsum("jl,clk->cjk", model.data.U, state.gamma)


def update_alpha_slopes(streams, state: SlopesState, model: SlopesModel) -> SlopesState:
    """Draw every alpha_j from N(P_j^-1 b_j, P_j^-1).

    P_j = Sigma^-1 + Z_j^T Z_j / sigma_y^2 and
    b_j = Sigma^-1 Gamma^T U_j + Z_j^T (y_j - X_j beta) / sigma_y^2.
    """
    K = model.K
    s2 = state.sigma_y[:, None, None] ** 2
    S_inv = np.linalg.inv(state.Sigma)
    resid = model.c[..., :K] - np.einsum("jka,ca->cjk", model.G[:, :K, K:], state.beta)
    rhs = np.einsum("cab,cjb->cja", S_inv, group_means(state, model)) + resid / s2
    precision = S_inv[:, None] + model.G[None, :, :K, :K] / s2[..., None]
    return state._replace(alpha=_mvn_draw(streams, precision, rhs))


def update_beta_slopes(streams, state: SlopesState, model: SlopesModel) -> SlopesState:
    """Draw beta from its Gaussian conditional given alpha (no-op without non-varying columns)."""
    K, p = model.K, model.p
    if p == 0:
        return state
    s2 = state.sigma_y[:, None] ** 2
    XtX = model.G[:, K:, K:].sum(axis=0)
    Xty = model.c[..., K:].sum(axis=-2)
    cross = np.einsum("jak,cjk->ca", model.G[:, K:, :K], state.alpha)
    precision = model.P_beta + XtX / s2[..., None]
    rhs = model.Pm_beta + (Xty - cross) / s2
    return state._replace(beta=_mvn_draw(streams, precision, rhs))


def update_gamma_slopes(streams, state: SlopesState, model: SlopesModel) -> SlopesState:
    """Draw Gamma given alpha and Sigma: a multivariate regression of alpha_j on U_j.

    With Gamma flattened row by row, the precision is (U^T U) kron Sigma^-1 and the right-hand
    side vec(U^T A Sigma^-1) (A the J x K matrix of alpha_j); the free elements' conditional takes
    their rows and columns (the others are fixed at zero), plus the prior's.
    """
    C, L, K = state.gamma.shape
    S_inv = np.linalg.inv(state.Sigma)
    idx = model.free_idx
    precision = np.einsum("lm,cab->clamb", model.UtU, S_inv).reshape(C, L * K, L * K)
    rhs = np.einsum("jl,cjk,ckm->clm", model.data.U, state.alpha, S_inv).reshape(C, L * K)
    precision = precision[:, idx[:, None], idx[None, :]] + model.P_gamma
    draw = _mvn_draw(streams, precision, rhs[:, idx] + model.Pm_gamma)
    return state._replace(gamma=model.scatter_gamma(draw))


def residual_ss_slopes(state: SlopesState, model: SlopesModel) -> np.ndarray:
    """Return sum_i (y_i - Z_i alpha_j[i] - X_i beta)^2 per chain, from group statistics."""
    J = model.data.n_groups
    beta = np.broadcast_to(state.beta[:, None, :], (state.beta.shape[0], J, model.p))
    theta = np.concatenate([state.alpha, beta], axis=-1)
    quad = np.einsum("cja,jab,cjb->c", theta, model.G, theta)
    cross = np.einsum("cja,cja->c", theta, np.broadcast_to(model.c, theta.shape))
    return np.maximum(model.yy - 2.0 * cross + quad, 0.0)


def update_sigma_y_slopes(streams, state: SlopesState, model: SlopesModel) -> SlopesState:
    """Draw sigma_y given the residual sum of squares over the n rows."""
    sigma, aux = draw_centered_scale(
        streams, model.priors.sigma_y, residual_ss_slopes(state, model), model.data.n, state.aux_y
    )
    return state._replace(sigma_y=sigma, aux_y=aux)


def update_sigma_slopes(streams, state: SlopesState, model: SlopesModel) -> SlopesState:
    """Draw Sigma (and any auxiliary variables of its prior) given S = sum_j r_j r_j^T."""
    r = state.alpha - group_means(state, model)
    S = np.einsum("cjk,cjm->ckm", r, r)
    Sigma, aux = model.priors.Sigma.draw_conditional(
        streams, S, model.data.n_groups, state.aux_Sigma
    )
    return state._replace(Sigma=Sigma, aux_Sigma=aux)


def update_beta_gamma_marginal_slopes(
    streams, state: SlopesState, model: SlopesModel
) -> SlopesState:
    """Draw (beta, Gamma) jointly with every alpha_j integrated out.

    Marginally y_j ~ N(W_j T_j theta, V_j), V_j = sigma_y^2 I + Z_j Sigma Z_j^T, and by Woodbury
    W_j^T V_j^-1 W_j = G_j / s2 - (G_j[:, Z] / s2) M_j^-1 (G_j[Z, :] / s2) with
    M_j = Z_j^T Z_j / s2 + Sigma^-1: a (K + p)-dimensional computation per group, whatever n_j.
    """
    K = model.K
    C = state.gamma.shape[0]
    s2 = state.sigma_y[:, None, None, None] ** 2
    S_inv = np.linalg.inv(state.Sigma)
    GZ = model.G[None, :, :K, :] / s2  # (C, J, K, D)
    M = model.G[None, :, :K, :K] / s2 + S_inv[:, None]
    M_inv_GZ = np.linalg.solve(M, GZ)
    H = model.G[None] / s2 - np.swapaxes(GZ, -1, -2) @ M_inv_GZ
    c = np.broadcast_to(model.c, (C, *model.c.shape[-2:])) / s2[..., 0]
    M_inv_cz = np.linalg.solve(M, c[..., :K, None])[..., 0]
    h = c - np.einsum("cjkd,cjk->cjd", GZ, M_inv_cz)
    precision = model.P_theta + np.einsum("jda,cjde,jeb->cab", model.T, H, model.T)
    rhs = model.Pm_theta + np.einsum("jda,cjd->ca", model.T, h)
    theta = _mvn_draw(streams, precision, rhs)
    return state._replace(beta=theta[:, : model.p], gamma=model.scatter_gamma(theta[:, model.p :]))


def log_joint_slopes(state: SlopesState, model: SlopesModel) -> np.ndarray:
    """Log joint density log p(y, alpha, beta, Gamma, sigma_y, Sigma) up to a constant, per chain.

    Improper priors contribute their unnormalized log density; the prior of Sigma contributes its
    marginal density (a Huang-Wand prior's auxiliary variables integrated out), without its
    normalizing constant.
    """
    n, J, pr = model.data.n, model.data.n_groups, model.priors
    ss = residual_ss_slopes(state, model)
    s = state.sigma_y
    loglik = -0.5 * n * _LOG_2PI - n * np.log(s) - 0.5 * ss / s**2
    r = state.alpha - group_means(state, model)
    _, logdet = np.linalg.slogdet(state.Sigma)
    quad = np.einsum("cja,cab,cjb->c", r, np.linalg.inv(state.Sigma), r)
    log_alpha = -0.5 * J * (model.K * _LOG_2PI + logdet) - 0.5 * quad
    return (
        loglik
        + log_alpha
        + pr.beta.logpdf(state.beta)
        + pr.gamma.logpdf(model.free_gamma(state.gamma))
        + pr.sigma_y.logpdf(state.sigma_y)
        + pr.Sigma.marginal_logpdf(state.Sigma)
    )


def _cholesky_jacobian(L: np.ndarray) -> np.ndarray:
    """Return log |d Sigma / d u| for Sigma = L L^T, u = (log L_kk, L_kl for k > l)."""
    K = L.shape[-1]
    diag = np.log(np.diagonal(L, axis1=-2, axis2=-1))
    return K * np.log(2.0) + diag @ (K + 1.0 - np.arange(K))


def collapsed_sigma_slopes(streams, state: SlopesState, model: SlopesModel) -> SlopesState:
    """Draw Sigma with every alpha_j integrated out (:func:`collapsed_sigma_step`)."""
    return collapsed_sigma_step(streams, state, model)


def collapsed_sigma_step(
    streams, state: SlopesState, model: SlopesModel, *, jacobian: bool = True
) -> SlopesState:
    """Draw Sigma from p(Sigma | y, beta, Gamma, sigma_y) with alpha and a integrated out.

    alpha_j integrated out, y_j ~ N(W_j m_j, s2 I + Z_j Sigma Z_j^T) with m_j the group's mean
    coefficients, so up to terms free of Sigma::

        log p(y | Sigma, ...) = -1/2 sum_j [log|Sigma| + log|M_j| - z_j^T M_j^-1 z_j / s2^2]

    with M_j = Z_j^T Z_j / s2 + Sigma^-1 and z_j = Z_j^T (y_j - W_j m_j), from group statistics.
    Sigma = L L^T is updated one coordinate of u = (log L_kk, L_kl) at a time by slice sampling
    (with the Jacobian of u -> Sigma) under the prior's marginal density (Huang-Wand's auxiliary
    variables integrated out), then those auxiliary variables given Sigma. Unlike the draw given
    alpha (and a), this does not stick when a standard deviation is near zero (a slope that
    hardly varies).
    """
    K, J = model.K, model.data.n_groups
    C = state.sigma_y.shape[0]
    s2 = state.sigma_y**2
    beta = np.broadcast_to(state.beta[:, None, :], (C, J, model.p))
    m = np.concatenate([group_means(state, model), beta], axis=-1)  # (C, J, D)
    c = np.broadcast_to(model.c, m.shape)
    G_zz = model.G[:, :K, :K]
    z = c[..., :K] - np.einsum("jkd,cjd->cjk", model.G[:, :K, :], m)
    A = G_zz[None] / s2[:, None, None, None]  # (C, J, K, K)
    zs = z / s2[:, None, None]
    prior = model.priors.Sigma

    if K == 2:
        # One varying slope: log|M_j| and z_j^T M_j^-1 z_j in closed form, from the three
        # distinct entries of M_j, without forming the (C, k, J, 2, 2) inverses.
        A00, A01, A11 = (A[:, None, :, i, j] for i, j in ((0, 0), (0, 1), (1, 1)))
        zz00, zz01, zz11 = (
            zs[:, None, :, i] * zs[:, None, :, j] for i, j in ((0, 0), (0, 1), (1, 1))
        )

    def group_terms(S_inv: np.ndarray) -> np.ndarray:
        """sum_j (log|M_j| - z_j^T M_j^-1 z_j) for candidate inverses S_inv (C, k, K, K)."""
        if K == 2:
            m00 = A00 + S_inv[..., 0, 0, None]
            m01 = A01 + S_inv[..., 0, 1, None]
            m11 = A11 + S_inv[..., 1, 1, None]
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                det = m00 * m11 - m01 * m01
                logdet_m = np.log(np.where((det > 0) & (m00 > 0), det, np.nan))
                quad = (m11 * zz00 - 2.0 * m01 * zz01 + m00 * zz11) / det
            return np.sum(logdet_m - quad, axis=-1)
        M_inv, logdet_m = inverse_and_logdet(A[:, None] + S_inv[:, :, None])
        quad = np.einsum("cjk,cqjkl,cjl->cqj", zs, M_inv, zs)
        return np.sum(logdet_m - quad, axis=-1)

    def log_target(L: np.ndarray) -> np.ndarray:
        # L: (C, k, K, K) candidate factors; returns (C, k), up to a constant.
        S_inv, logdet_sigma = inverse_and_logdet(L @ np.swapaxes(L, -1, -2))
        loglik = -0.5 * (J * logdet_sigma + group_terms(S_inv))
        logp = loglik + prior.marginal_logpdf(None, S_inv, logdet_sigma)
        if jacobian:  # False only in a deliberately broken sampler (validation.slopes_mutants)
            logp = logp + _cholesky_jacobian(L)
        return np.where(np.isfinite(logp), logp, -np.inf)

    Sigma = slice_cholesky(streams, state.Sigma, log_target)
    return state._replace(Sigma=Sigma, aux_Sigma=prior.draw_aux(streams, Sigma, state.aux_Sigma))
