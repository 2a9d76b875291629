"""One Gibbs kernel for varying intercepts, varying slopes and further grouping factors.

It serves any family that hands it Gaussian pseudo-observations.

Model::

    eta_i  = X_i beta + Z_i a_j[i] + sum_f b_f[f(i)]                 i = 1..n
    a_j    = Gamma^T U_j + e_j,          e_j ~ N(0, Sigma)           j = 1..J   (K effects)
    b_f[l] ~ N(0, sigma_f^2)                                         every factor f, l = 1..J_f

Z_i = (1, the varying columns of row i); X_i the other predictors; Gamma as in
:mod:`gibbs.kernels.slopes` (the group-level predictors enter the intercept's mean, the constant
row holds the mean slopes). A factor constant within every group is *nested* above the groups:
its effect is reported inside the group intercept alpha_j (state above county); any other factor
is *crossed*. With K = 1 the group-level prior is a scale prior on sigma_alpha; with K > 1 a
covariance prior on Sigma.

The family enters through pseudo-observations: given its latent variables (if any), row i
contributes exp(r_i eta_i - w_i eta_i^2 / 2) to the likelihood of eta (Gaussian: w = 1 / sigma_y^2,
r = y / sigma_y^2; logistic: Polya-Gamma w; probit: Albert-Chib utilities). Every location and
scale block is then written once, on per-group weighted sums of the design: the Gaussian family's
sums are fixed once (an iteration is O(J), flat in n), a latent family's are recomputed after each
latent draw.

Locations: s = (beta, the free elements of Gamma, every factor's effects) and the deviations e_j.
The design of s per row, ``model.S_design``, is X_i, Z_ik U_{j(i), l} for every free (l, k), and
one indicator column per factor level; e_j's is Z_i. The joint draw takes s with every e_j
integrated out (block-diagonal Schur complement, O(J K^2 S + J K S^2)), then e_j given s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from gibbs.covariance import inverse_and_logdet
from gibbs.data import HierarchicalData
from gibbs.kernels.factors import Factor, draw_factor_scales
from gibbs.kernels.scales import (
    draw_centered_scale,
    draw_collapsed_scale,
    draw_noncentered_scale,
    slice_cholesky,
)
from gibbs.structures.base import Block

__all__ = [
    "MixedModel",
    "MixedState",
    "WeightedStats",
    "collapsed_terms",
    "full_predictor",
    "linear_predictor",
    "update_deviations_with",
    "weighted_stats",
    "with_latent",
    "update_small",
    "update_deviations",
    "log_joint_mixed",
    "mixed_schemes",
    "noncentered_factor_scales",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


class WeightedStats(NamedTuple):
    """Per-group and total weighted sums of the design, per chain.

    A (C, J, K, K) sum w Z Z^T; B (C, J, K, S) sum w Z S_design^T; zr (C, J, K) sum r Z;
    Cs (C, S, S) sum w S_design S_design^T; cs (C, S) sum r S_design.
    """

    A: np.ndarray
    B: np.ndarray
    zr: np.ndarray
    Cs: np.ndarray
    cs: np.ndarray


class MixedState(NamedTuple):
    """Sampler state for a batch of chains.

    Attributes
    ----------
    small : ndarray, shape (chains, S)
        beta, the free elements of Gamma, then every factor's effects.
    dev : ndarray, shape (chains, J, K)
        Group deviations e_j = a_j - Gamma^T U_j.
    Sigma : ndarray, shape (chains, K, K)
        Covariance of e_j (sigma_alpha^2 when K = 1).
    aux_Sigma : ndarray
        Auxiliary variables of its prior (half-t or Huang-Wand; ones when unused).
    sigma_f, aux_f : ndarray, shape (chains, F)
        Factor standard deviations and their half-t auxiliaries.
    sigma_y, aux_y : ndarray, shape (chains,)
        The family's dispersion parameter and its half-t auxiliary: sigma_y of the Gaussian
        family, sigma_epsilon of the overdispersed Poisson, 1 / sqrt(phi) of the negative
        binomial (ones for a family without one).
    w, r : ndarray, shape (chains, n), or None
        A latent family's row weights and weighted pseudo-responses.
    stats : (outcomes, WeightedStats) or None
        The sums of this sweep with the outcomes they belong to, so that the blocks of one sweep
        share them.
    latent : ndarray, shape (chains, n), or None
        Latent variables the family keeps between sweeps (the Poisson family's log rates).
    """

    small: np.ndarray
    dev: np.ndarray
    Sigma: np.ndarray
    aux_Sigma: np.ndarray
    sigma_f: np.ndarray
    aux_f: np.ndarray
    sigma_y: np.ndarray
    aux_y: np.ndarray
    w: np.ndarray | None = None
    r: np.ndarray | None = None
    stats: tuple | None = None
    latent: np.ndarray | None = None


def _row_sums_by_group(values: np.ndarray, model: MixedModel) -> np.ndarray:
    """Sum (C, n, ...) over each group's rows: (C, J, ...); groups without rows get zeros."""
    sorted_values = values[:, model.row_order]
    sums = np.add.reduceat(sorted_values, model.group_starts, axis=1)
    out = np.zeros((values.shape[0], model.data.n_groups, *values.shape[2:]))
    out[:, model.observed_groups] = sums
    return out


@dataclass(frozen=True, eq=False)
class MixedModel:
    """Data, varying columns, factors, priors, family and the sums every sweep reuses.

    Parameters
    ----------
    data : HierarchicalData
    slopes : tuple of str
        Columns of ``data.X`` whose coefficients vary by group besides the intercept.
    factors : tuple of Factor
    priors : Priors or SlopesPriors
        ``Priors`` (a scale prior on sigma_alpha) when K = 1, ``SlopesPriors`` (a covariance
        prior) when K > 1; ``factor_scales`` name each factor's scale prior.
    family : gibbs.families.Family
    """

    data: HierarchicalData
    slopes: tuple[str, ...]
    factors: tuple[Factor, ...]
    priors: Any
    family: Any

    def __post_init__(self) -> None:
        d = self.data
        slopes, factors = tuple(self.slopes), tuple(self.factors)
        object.__setattr__(self, "slopes", slopes)
        object.__setattr__(self, "factors", factors)
        unknown = [s for s in slopes if s not in d.x_names]
        if unknown:
            raise ValueError(
                f"varying slopes {unknown} are not columns of X; X has {list(d.x_names)}"
            )
        if len(set(slopes)) != len(slopes):
            raise ValueError(f"varying slopes repeat a column: {list(slopes)}")
        names = [f.name for f in factors]
        if len(set(names)) != len(names) or d.group_dim in names:
            raise ValueError(f"factor names must be distinct and differ from the group: {names}")
        self.family.check_outcome(d)
        K = len(slopes) + 1
        self.family.check_priors(self.priors, d, K, factors)
        ones = np.flatnonzero(np.all(d.U == 1.0, axis=0))
        if K > 1 and ones.size == 0:
            raise ValueError(
                "varying slopes need a constant (intercept) column in U: the mean slopes are its "
                "coefficients"
            )
        intercept_row = int(ones[0]) if ones.size else 0
        z_idx = [list(d.x_names).index(s) for s in slopes]
        x_idx = [k for k in range(d.p) if k not in z_idx]
        Z = np.column_stack([np.ones(d.n), d.X[:, z_idx]])
        X = d.X[:, x_idx]
        L = d.q
        free = np.zeros((L, K), dtype=bool)
        free[:, 0] = True
        if K > 1:
            free[intercept_row, :] = True
        free_idx = np.flatnonzero(free.ravel())
        gamma_cols = [
            Z[:, k] * d.U[d.group, row] for row, k in (divmod(int(f), K) for f in free_idx)
        ]
        onehots = []
        for f in factors:
            z = np.zeros((d.n, len(f.levels)))
            z[np.arange(d.n), f.codes] = 1.0
            onehots.append(z)
        S_design = np.column_stack([X, *gamma_cols, *onehots]) if d.n else np.zeros((0, 0))
        p, F = X.shape[1], free_idx.size
        sizes = [len(f.levels) for f in factors]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp) + p + F
        P_beta, Pm_beta = self.priors.beta.precision(p)
        P_gamma, Pm_gamma = self.priors.gamma.precision(F)
        S = S_design.shape[1]
        P_small = np.zeros((S, S))
        P_small[:p, :p], P_small[p : p + F, p : p + F] = P_beta, P_gamma
        Pm_small = np.concatenate([Pm_beta, Pm_gamma, np.zeros(S - p - F)])
        row_order = np.argsort(d.group, kind="stable")
        sorted_groups = d.group[row_order]
        starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
        cache = {
            "Z": Z,
            "X": X,
            "x_idx": np.asarray(x_idx, dtype=np.intp),
            "S_design": S_design,
            "free_idx": free_idx,
            "offsets": offsets,
            "P_small": P_small,
            "Pm_small": Pm_small,
            "row_order": row_order,
            "group_starts": starts,
            "observed_groups": sorted_groups[starts],
            "trials": d.binomial_trials,
            "offset": d.linear_offset,
        }
        for key, value in cache.items():
            value.setflags(write=False)
            object.__setattr__(self, key, value)
        object.__setattr__(self, "intercept_row", intercept_row)
        object.__setattr__(self, "has_offset", d.offset is not None)
        self._set_outcomes(d.y[None, :])

    # ------------------------------------------------------------------ outcomes
    def _set_outcomes(self, Y: np.ndarray) -> None:
        object.__setattr__(self, "Y", Y)
        object.__setattr__(self, "family_data", self.family.prepare(Y, self.trials))
        if self.family.fixed_weights:
            # Sums with unit weights, fixed once; a sweep scales them by 1 / sigma_y^2. The
            # offset moves to the outcome: y - o ~ N(eta, sigma_y^2).
            Y = Y - self.offset if self.has_offset else Y
            object.__setattr__(self, "Y_work", Y)
            Z, Sd = self.Z, self.S_design
            ones = np.ones((1, self.data.n, 1))
            unit = WeightedStats(
                A=_row_sums_by_group(ones[..., None] * Z[:, :, None] * Z[:, None, :], self),
                B=_row_sums_by_group(ones[..., None] * Z[:, :, None] * Sd[:, None, :], self),
                zr=_row_sums_by_group(Y[..., None] * Z, self),
                Cs=(Sd.T @ Sd)[None],
                cs=Y @ Sd,
            )
            object.__setattr__(self, "unit_stats", unit)
            object.__setattr__(self, "yy", np.einsum("cn,cn->c", Y, Y))

    def with_outcomes(self, Y: np.ndarray) -> MixedModel:
        """Return this model with one outcome vector per chain (Geweke and SBC batteries)."""
        clone = object.__new__(MixedModel)
        clone.__dict__.update(self.__dict__)
        clone._set_outcomes(np.asarray(Y, dtype=float))
        return clone

    def _sums(self, w: np.ndarray, r: np.ndarray) -> WeightedStats:
        """Weighted sums of the design for weights ``w`` and pseudo-responses ``r`` (C, n)."""
        Z, Sd = self.Z, self.S_design
        wZ = w[..., None] * Z
        A = _row_sums_by_group(wZ[..., :, None] * Z[:, None, :], self)
        B = _row_sums_by_group(wZ[..., :, None] * Sd[:, None, :], self)
        zr = _row_sums_by_group(r[..., None] * Z, self)
        Cs = np.matmul(Sd.T[None] * w[:, None, :], Sd)
        cs = np.matmul(r[:, None, :], Sd)[:, 0]
        return WeightedStats(A, B, zr, Cs, cs)

    # ------------------------------------------------------------------ layout
    @property
    def K(self) -> int:
        """Number of varying coefficients per group (intercept and slopes)."""
        return self.Z.shape[1]

    @property
    def p(self) -> int:
        """Number of non-varying predictors."""
        return self.X.shape[1]

    @property
    def n_small(self) -> int:
        """Size of s."""
        return self.S_design.shape[1]

    @property
    def effect_names(self) -> list[str]:
        """Names of the varying coefficients."""
        return ["Intercept", *self.slopes]

    @property
    def fixed_names(self) -> list[str]:
        """Names of the non-varying predictors."""
        return [self.data.x_names[k] for k in self.x_idx]

    def beta(self, small: np.ndarray) -> np.ndarray:
        """Beta from s, shape (..., p)."""
        return small[..., : self.p]

    def gamma_matrix(self, small: np.ndarray) -> np.ndarray:
        """Gamma (..., L, K) from s; the structural zeros are zero."""
        lead = small.shape[:-1]
        out = np.zeros((*lead, self.data.q * self.K))
        out[..., self.free_idx] = small[..., self.p : self.p + self.free_idx.size]
        return out.reshape(*lead, self.data.q, self.K)

    def factor_effects(self, small: np.ndarray, k: int) -> np.ndarray:
        """Factor k's effects, shape (..., J_k)."""
        return small[..., self.offsets[k] : self.offsets[k + 1]]

    def group_coefficients(self, small: np.ndarray, dev: np.ndarray) -> np.ndarray:
        """a_j = Gamma^T U_j + e_j, plus nested factors' effects in the intercept: (..., J, K)."""
        alpha = np.einsum("jl,...lk->...jk", self.data.U, self.gamma_matrix(small)) + dev
        for k, f in enumerate(self.factors):
            if f.nested:
                alpha[..., 0] += self.factor_effects(small, k)[..., f.group_level]
        return alpha


# ---------------------------------------------------------------------- helpers
def linear_predictor(small: np.ndarray, dev: np.ndarray, model: MixedModel) -> np.ndarray:
    """eta_i for every chain, shape (chains, n): S_design_i s + Z_i e_j[i]."""
    # Stacked products keep each chain's rounding independent of the number of chains.
    eta = np.matmul(small[:, None, :], model.S_design.T)[:, 0]
    return eta + np.einsum("ik,cik->ci", model.Z, dev[:, model.data.group])


def weighted_stats(state: MixedState, model: MixedModel) -> WeightedStats:
    """Return the sums of this sweep: fixed ones over sigma_y^2, or the latent variables'."""
    # Sums cached in the state belong to the outcomes they were computed with (the Geweke and
    # SBC batteries change the outcomes between sweeps).
    if state.stats is not None and state.stats[0] is model.Y:
        return state.stats[1]
    if model.family.fixed_weights:
        u = model.unit_stats
        s2 = state.sigma_y**2
        C = s2.shape[0]

        def scale(x, k):
            return np.broadcast_to(x, (C, *x.shape[1:])) / s2.reshape(C, *([1] * k))

        return WeightedStats(
            scale(u.A, 3), scale(u.B, 3), scale(u.zr, 2), scale(u.Cs, 2), scale(u.cs, 1)
        )
    return model._sums(state.w, state.r)


def with_latent(state: MixedState, model: MixedModel, w: np.ndarray, r: np.ndarray) -> MixedState:
    """Return ``state`` with new latent variables and their sums (computed once per sweep)."""
    return state._replace(w=w, r=r, stats=(model.Y, model._sums(w, r)))


def _small_precision(state: MixedState, model: MixedModel) -> np.ndarray:
    C = state.small.shape[0]
    P = np.broadcast_to(model.P_small, (C, *model.P_small.shape)).copy()
    for k in range(len(model.factors)):
        idx = np.arange(model.offsets[k], model.offsets[k + 1])
        P[:, idx, idx] += state.sigma_f[:, k, None] ** -2.0
    return P


def _mvn(streams, precision: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Draw N(P^-1 b, P^-1) per leading index, from standard normals of the chains' streams."""
    L = np.linalg.cholesky(precision)
    mean = np.linalg.solve(precision, rhs[..., None])[..., 0]
    z = streams.normal(int(np.prod(rhs.shape[1:]))).reshape(rhs.shape)
    return mean + np.linalg.solve(np.swapaxes(L, -1, -2), z[..., None])[..., 0]


def _deviation_precision(state: MixedState, st: WeightedStats) -> np.ndarray:
    """D_j = A_j + Sigma^-1, shape (C, J, K, K)."""
    return st.A + np.linalg.inv(state.Sigma)[:, None]


# ---------------------------------------------------------------------- location blocks
def update_small(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Draw s with every e_j integrated out, given the variances and the pseudo-observations.

    Precision P_s + Cs - sum_j B_j^T D_j^-1 B_j, right-hand side Pm_s + cs - sum_j B_j^T D_j^-1
    zr_j. Draw e after it (:func:`update_deviations`).
    """
    st = weighted_stats(state, model)
    D = _deviation_precision(state, st)
    Dinv_B = np.linalg.solve(D, st.B)  # (C, J, K, S)
    Dinv_z = np.linalg.solve(D, st.zr[..., None])[..., 0]
    precision = _small_precision(state, model) + st.Cs - np.einsum("cjka,cjkb->cab", st.B, Dinv_B)
    rhs = model.Pm_small + st.cs - np.einsum("cjka,cjk->ca", st.B, Dinv_z)
    return state._replace(small=_mvn(streams, precision, rhs), stats=(model.Y, st))


def update_deviations(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Draw every e_j from N(D_j^-1 (zr_j - B_j s), D_j^-1)."""
    st = weighted_stats(state, model)
    D = _deviation_precision(state, st)
    rhs = st.zr - np.einsum("cjka,ca->cjk", st.B, state.small)
    return state._replace(dev=update_deviations_with(streams, D, rhs), stats=(model.Y, st))


def update_deviations_with(streams, precision: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Draw e_j ~ N(P_j^-1 b_j, P_j^-1) for given per-group precisions and right-hand sides."""
    return _mvn(streams, precision, rhs)


def update_locations(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Draw (s, every e_j) jointly: :func:`update_small`, then :func:`update_deviations`."""
    return update_deviations(streams, update_small(streams, state, model), model)


# ---------------------------------------------------------------------- scale blocks
def update_group_scale(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Draw Sigma (sigma_alpha^2 when K = 1) given the deviations e_j."""
    J = model.data.n_groups
    if model.K == 1:
        ss = np.sum(state.dev[..., 0] ** 2, axis=1)
        sigma, aux = draw_centered_scale(streams, model.priors.sigma_alpha, ss, J, state.aux_Sigma)
        return state._replace(Sigma=(sigma**2)[:, None, None], aux_Sigma=aux)
    S = np.einsum("cjk,cjm->ckm", state.dev, state.dev)
    Sigma, aux = model.priors.Sigma.draw_conditional(streams, S, J, state.aux_Sigma)
    return state._replace(Sigma=Sigma, aux_Sigma=aux)


def collapsed_terms(state: MixedState, model: MixedModel):
    """A_j and z_j = zr_j - B_j s of the groups with rows: e_j integrated out, given s."""
    st = weighted_stats(state, model)
    obs = model.observed_groups
    z = st.zr[:, obs] - np.einsum("cjka,ca->cjk", st.B[:, obs], state.small)
    return st.A[:, obs], z


def collapsed_group_scale(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Draw Sigma given s with every e_j integrated out (draw e next).

    Marginally, up to terms free of Sigma, log p = -1/2 sum_j [log|Sigma| + log|M_j| - z_j^T
    M_j^-1 z_j], M_j = A_j + Sigma^-1. K = 1: each group's weighted mean residual z_j / A_j is
    N(0, 1 / A_j + sigma_alpha^2): one slice step on log sigma_alpha, any scale prior. K > 1: the
    Cholesky factor's coordinates in turn by slice sampling, under the prior's marginal density
    (with the Jacobian), then the prior's auxiliary variables given Sigma.
    """
    A, z = collapsed_terms(state, model)
    if model.K == 1:
        a = A[..., 0, 0]
        sigma = draw_collapsed_scale(
            streams,
            model.priors.sigma_alpha,
            np.sqrt(state.Sigma[:, 0, 0]),
            z[..., 0] / a,
            1.0 / a,
        )
        return state._replace(Sigma=(sigma**2)[:, None, None])
    K, J_obs = model.K, A.shape[1]
    prior = model.priors.Sigma

    def log_target(L: np.ndarray) -> np.ndarray:
        S_inv, logdet_sigma = inverse_and_logdet(L @ np.swapaxes(L, -1, -2))
        M_inv, logdet_m = inverse_and_logdet(A[:, None] + S_inv[:, :, None])
        quad = np.einsum("cjk,cqjkl,cjl->cqj", z, M_inv, z)
        # Groups without rows contribute nothing (log|Sigma| + log|Sigma^-1| = 0).
        logp = -0.5 * (J_obs * logdet_sigma + np.sum(logdet_m - quad, axis=-1))
        logp = logp + prior.marginal_logpdf(None, S_inv, logdet_sigma)
        diag = np.log(np.diagonal(L, axis1=-2, axis2=-1))
        logp = logp + K * np.log(2.0) + diag @ (K + 1.0 - np.arange(K))
        return np.where(np.isfinite(logp), logp, -np.inf)

    Sigma = slice_cholesky(streams, state.Sigma, log_target)
    return state._replace(Sigma=Sigma, aux_Sigma=prior.draw_aux(streams, Sigma, state.aux_Sigma))


def update_factor_scales(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Draw each sigma_f given the sum of its J_f squared effects."""
    sigma_f, aux_f = draw_factor_scales(
        streams,
        model.priors,
        model.factors,
        lambda k: model.factor_effects(state.small, k),
        state.sigma_f,
        state.aux_f,
    )
    return state._replace(sigma_f=sigma_f, aux_f=aux_f)


def _level_sums(values: np.ndarray, codes: np.ndarray, levels: int) -> np.ndarray:
    """Per-chain sums of ``values`` (chains, n) over each level's rows: (chains, levels)."""
    C = values.shape[0]
    index = codes + levels * np.arange(C)[:, None]
    return np.bincount(index.ravel(), values.ravel(), C * levels).reshape(C, levels)


def noncentered_factor_scales(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Move each sigma_f with its standardized effects z = b_f / sigma_f held fixed (ASIS).

    Given z and the pseudo-observations, eta is linear in sigma_f: the likelihood is
    exp(-(sigma^2 sum_l z_l^2 W_l - 2 sigma sum_l z_l R_l) / 2) with W_l, R_l the level's sums of
    w and of the weighted residual without the factor; an exact draw under the scale prior, then
    b_f = sigma_f z. Interwoven after the centered draw (Yu & Meng 2011), it moves a factor's
    scale together with its effects, which the centered draw cannot when a few levels leave the
    scale weakly identified.
    """
    if not model.factors:
        return state
    eta = linear_predictor(state.small, state.dev, model)
    if model.family.fixed_weights:
        s2 = state.sigma_y[:, None] ** 2
        w = np.broadcast_to(1.0 / s2, eta.shape)
        r = np.broadcast_to(model.Y_work, eta.shape) / s2
    else:
        w, r = state.w, state.r
    small, sigma_f = state.small.copy(), state.sigma_f.copy()
    for k, f in enumerate(model.factors):
        J_f = len(f.levels)
        b = model.factor_effects(small, k)
        z = b / sigma_f[:, k, None]
        W = _level_sums(w, f.codes, J_f)
        R = _level_sums(r - w * (eta - b[:, f.codes]), f.codes, J_f)
        new = draw_noncentered_scale(
            streams,
            model.priors.factor_scale(f.name),
            sigma_f[:, k],
            np.sum(z * z * W, axis=1),
            np.sum(z * R, axis=1),
            np.ones_like(sigma_f[:, k]),
            state.aux_f[:, k],
        )
        b_new = new[:, None] * z
        eta = eta + (b_new - b)[:, f.codes]
        small[:, model.offsets[k] : model.offsets[k + 1]] = b_new
        sigma_f[:, k] = new
    return state._replace(small=small, sigma_f=sigma_f)


def residual_ss(state: MixedState, model: MixedModel) -> np.ndarray:
    """sum_i (y_i - eta_i)^2 per chain, from the unit-weight sums (fixed-weight families)."""
    u, s, e = model.unit_stats, state.small, state.dev
    C = s.shape[0]
    cs = np.broadcast_to(u.cs, (C, *u.cs.shape[1:]))
    zr = np.broadcast_to(u.zr, (C, *u.zr.shape[1:]))
    quad = (
        np.einsum("ca,ab,cb->c", s, u.Cs[0], s)
        + 2.0 * np.einsum("cjk,jka,ca->c", e, u.B[0], s)
        + np.einsum("cjk,jkm,cjm->c", e, u.A[0], e)
    )
    cross = np.einsum("ca,ca->c", s, cs) + np.einsum("cjk,cjk->c", e, zr)
    return np.maximum(model.yy - 2.0 * cross + quad, 0.0)


def update_sigma_y(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Draw sigma_y given the residual sum of squares over the n rows (Gaussian family)."""
    sigma, aux = draw_centered_scale(
        streams, model.priors.sigma_y, residual_ss(state, model), model.data.n, state.aux_y
    )
    return state._replace(sigma_y=sigma, aux_y=aux, stats=None)


def full_predictor(state: MixedState, model: MixedModel) -> np.ndarray:
    """eta_i plus the row's offset, shape (chains, n): what the family's likelihood sees."""
    eta = linear_predictor(state.small, state.dev, model)
    return eta + model.offset if model.has_offset else eta


def latent_block(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Draw the family's latent variables given eta (Polya-Gamma, Albert-Chib, log rates...)."""
    eta = full_predictor(state, model)
    latent, w, r = model.family.latent_step(
        streams, eta, state.latent, state.sigma_y, model.family_data
    )
    if model.has_offset:
        # The family's r is for eta + o; the blocks see eta: r w (eta + o) = r w eta + const.
        r = r - w * model.offset
    return with_latent(state, model, w, r)._replace(latent=latent)


def dispersion_block(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Draw a latent family's dispersion given eta and its kept latent variables.

    Runs just before :func:`latent_block`: the negative binomial's step integrates its
    Polya-Gamma variables out, so they must be drawn afresh after it.
    """
    fam = model.family
    disp, aux = fam.dispersion_step(
        streams,
        full_predictor(state, model),
        state.latent,
        state.sigma_y,
        state.aux_y,
        fam.dispersion_prior(model.priors),
        model.family_data,
    )
    return state._replace(sigma_y=disp, aux_y=aux, stats=None)


def mixed_schemes(family) -> dict[str, tuple[Block, ...]]:
    """Return the schemes of this kernel for a family (named blocks; all the same posterior)."""
    head = (Block("latent", latent_block),) if not family.fixed_weights else ()
    if family.dispersion and not family.fixed_weights:
        head = (Block("dispersion", dispersion_block), *head)
    tail = (Block("sigma_y", update_sigma_y),) if family.fixed_weights else ()
    return {
        # (s, e) jointly, then Sigma given e.
        "blocked": (
            *head,
            Block("locations", update_locations),
            Block("group_scale", update_group_scale),
            Block("factor_scales", update_factor_scales),
            Block("factor_scales_noncentered", noncentered_factor_scales),
            *tail,
        ),
        # s, then Sigma, with every e_j integrated out; then e given both.
        "collapsed": (
            *head,
            Block("small", update_small),
            Block("group_scale", collapsed_group_scale),
            Block("deviations", update_deviations),
            Block("factor_scales", update_factor_scales),
            Block("factor_scales_noncentered", noncentered_factor_scales),
            *tail,
        ),
    }


# ---------------------------------------------------------------------- log density
def log_joint_mixed(state: MixedState, model: MixedModel) -> np.ndarray:
    """Log joint density of y and every parameter, per chain (improper priors unnormalized).

    The prior of Sigma contributes its marginal density (Huang-Wand's auxiliary variables
    integrated out) without its normalizing constant.
    """
    pr, K, J = model.priors, model.K, model.data.n_groups
    fam = model.family
    eta = full_predictor(state, model)
    lp = fam.joint_loglik(eta, model.Y, model.trials, state.sigma_y[:, None], state.latent)
    lp = lp.sum(axis=1)
    if fam.dispersion:
        lp = lp + fam.dispersion_prior(pr).logpdf(state.sigma_y)
    S_inv, logdet = inverse_and_logdet(state.Sigma)
    quad = np.einsum("cja,cab,cjb->c", state.dev, S_inv, state.dev)
    lp = lp - 0.5 * J * (K * _LOG_2PI + logdet) - 0.5 * quad
    if K == 1:
        lp = lp + pr.sigma_alpha.logpdf(np.sqrt(state.Sigma[:, 0, 0]))
    else:
        lp = lp + pr.Sigma.marginal_logpdf(state.Sigma)
    lp = lp + pr.beta.logpdf(model.beta(state.small))
    lp = lp + pr.gamma.logpdf(state.small[:, model.p : model.p + model.free_idx.size])
    for k, f in enumerate(model.factors):
        b, sd = model.factor_effects(state.small, k), state.sigma_f[:, k]
        lp = lp + np.sum(-0.5 * _LOG_2PI - np.log(sd[:, None]) - 0.5 * (b / sd[:, None]) ** 2, 1)
        lp = lp + pr.factor_scale(f.name).logpdf(sd)
    return lp
