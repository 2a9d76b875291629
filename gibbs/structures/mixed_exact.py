"""Location moves of the general kernel on the family's exact likelihood, without latent variables.

With counts in the hundreds the negative binomial's Polya-Gamma variables hold far more
information about each eta_i than the data do (docs/counts.md): given them, the location blocks
take tiny steps. The ``integrated`` scheme drops them. Every location moves on its exact full
conditional, the likelihood summed over the rows it enters:

- each deviation e_jk by a slice step, all groups and chains at once (given the others, the
  groups are independent), under its conditional prior given e_j's other coordinates;
- each factor's effects by the same grouped slice step over its levels;
- each coefficient of beta by a slice step on the whole likelihood;
- Gamma given the group coefficients a_j = Gamma^T U_j + e_j, by its exact Gaussian draw: the
  likelihood does not change along that move (the e_j take up the change), only the priors do;
- every factor's effects against the intercept, b_f - c and gamma_0 + c: eta is unchanged, and
  c is drawn exactly from the two priors. This is the ridge between the intercept and the mean
  of a few levels' effects, along which one-at-a-time moves crawl.

The slice widths depend on the other parameters only (a bound on the likelihood's information
per row, from the family; the prior's sd), as a slice step needs. The likelihood is log-concave
in eta for the families that offer this scheme, so the conditional sd is at most the prior's.
"""

from __future__ import annotations

import numpy as np

from gibbs.kernels.slice_groups import slice_step_grouped
from gibbs.kernels.tuning import current
from gibbs.structures.base import Block
from gibbs.structures.mixed import (
    MixedModel,
    MixedState,
    dispersion_block,
    full_predictor,
    update_factor_scales,
    update_group_scale,
)

__all__ = [
    "exact_beta",
    "exact_schemes",
    "exact_deviations",
    "exact_factor_effects",
    "factor_translation",
    "gamma_given_coefficients",
    "intercept_index",
]


def _grouped_slice(
    streams,
    state: MixedState,
    model: MixedModel,
    eta: np.ndarray,
    x0: np.ndarray,
    codes: np.ndarray,
    multiplier: np.ndarray | None,
    prior_mean: np.ndarray,
    prior_prec: np.ndarray,
) -> np.ndarray:
    """One slice step on x (C, L): row i's eta moves by multiplier_i (x - x0)[codes_i].

    x_l's density is the family's likelihood of its rows times N(prior_mean, 1 / prior_prec).
    """
    fam = model.family
    C, L = x0.shape
    Y = np.broadcast_to(model.Y, eta.shape)[:, None, :]
    disp = state.sigma_y[:, None, None]

    indices: dict[int, np.ndarray] = {}  # bincount index of each row, by candidates per chain

    def logf(cand: np.ndarray) -> np.ndarray:
        k = cand.shape[1]
        if k not in indices:
            indices[k] = (codes + L * np.arange(C * k).reshape(C, k, 1)).ravel()
        delta = (cand - x0[:, None, :])[..., codes]
        moved = eta[:, None, :] + (delta if multiplier is None else delta * multiplier)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            ll = fam.eta_loglik(moved, Y, disp)
        sums = np.bincount(indices[k], ll.ravel(), C * k * L).reshape(C, k, L)
        dev = cand - prior_mean[:, None, :]
        out = sums - 0.5 * prior_prec[:, None, :] * dev * dev
        return np.where(np.isfinite(out), out, -np.inf)

    weight = None if multiplier is None else multiplier**2
    rows = np.bincount(codes, weights=weight, minlength=L)  # sum of squared multipliers
    info = fam.eta_information_bound(state.sigma_y)[:, None] * rows[None]
    with np.errstate(divide="ignore"):
        lower = 1.0 / np.sqrt(info + prior_prec)
        upper = 1.0 / np.sqrt(prior_prec)
    width = 2.0 * current().slice_width * np.minimum(upper, 30.0 * lower)
    return slice_step_grouped(streams, logf, x0, width)


def exact_deviations(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Move every e_jk by a slice step on its exact conditional, coordinate by coordinate."""
    eta = full_predictor(state, model)
    dev = state.dev.copy()
    S_inv = np.linalg.inv(state.Sigma)
    group = model.data.group
    for k in range(model.K):
        prec = np.broadcast_to(S_inv[:, k, k, None], dev.shape[:2])
        # e_jk given e_j's other coordinates under N(0, Sigma).
        others = np.einsum("cm,cjm->cj", S_inv[:, k], dev) - S_inv[:, k, k, None] * dev[..., k]
        mean = -others / S_inv[:, k, k, None]
        multiplier = None if k == 0 else model.Z[:, k]
        old = dev[..., k].copy()
        dev[..., k] = _grouped_slice(streams, state, model, eta, old, group, multiplier, mean, prec)
        change = (dev[..., k] - old)[:, group]
        eta = eta + (change if multiplier is None else change * multiplier)
    return state._replace(dev=dev, stats=None)


def exact_factor_effects(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Move every factor's effects by a slice step over its levels on the exact likelihood."""
    if not model.factors:
        return state
    eta = full_predictor(state, model)
    small = state.small.copy()
    for k, f in enumerate(model.factors):
        old = model.factor_effects(small, k).copy()
        prec = np.broadcast_to(state.sigma_f[:, k, None] ** -2.0, old.shape)
        new = _grouped_slice(
            streams, state, model, eta, old, f.codes, None, np.zeros_like(old), prec
        )
        eta = eta + (new - old)[:, f.codes]
        small[:, model.offsets[k] : model.offsets[k + 1]] = new
    return state._replace(small=small, stats=None)


def exact_beta(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Move each coefficient of beta by a slice step on the whole likelihood."""
    if model.p == 0:
        return state
    eta = full_predictor(state, model)
    small = state.small.copy()
    C = small.shape[0]
    one_level = np.zeros(model.data.n, dtype=np.intp)
    P, Pm = model.P_small, model.Pm_small
    for m in range(model.p):
        # beta's prior is independent across coefficients (a Normal or Flat prior).
        prec = np.full((C, 1), P[m, m])
        mean = np.full((C, 1), Pm[m] / P[m, m] if P[m, m] > 0 else 0.0)
        old = small[:, m : m + 1].copy()
        x = model.X[:, m]
        new = _grouped_slice(streams, state, model, eta, old, one_level, x, mean, prec)
        eta = eta + (new - old) * x
        small[:, m] = new[:, 0]
    return state._replace(small=small, stats=None)


def gamma_given_coefficients(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Draw Gamma given a_j = Gamma^T U_j + e_j (the e_j take up the change: eta is unchanged).

    a_j ~ N(Gamma^T U_j, Sigma), so the free elements g of Gamma are a Gaussian regression: with
    element f at (row_f, k_f), precision (U^T U)_{row_f row_g} (Sigma^-1)_{k_f k_g} + P_gamma and
    right-hand side sum_j U_{j row_f} (Sigma^-1 a_j)_{k_f} + Pm_gamma.
    """
    F = model.free_idx.size
    if F == 0:
        return state
    p, K, U = model.p, model.K, model.data.U
    rows, ks = np.divmod(model.free_idx, K)
    a = np.einsum("jl,clk->cjk", U, model.gamma_matrix(state.small)) + state.dev
    S_inv = np.linalg.inv(state.Sigma)
    UtU = U.T @ U
    Q = UtU[np.ix_(rows, rows)][None] * S_inv[:, ks][:, :, ks] + model.P_small[p : p + F, p : p + F]
    Sa = np.einsum("ckm,cjm->cjk", S_inv, a)  # Sigma^-1 a_j
    rhs = np.einsum("jf,cjf->cf", U[:, rows], Sa[..., ks]) + model.Pm_small[p : p + F]
    L = np.linalg.cholesky(Q)
    mean = np.linalg.solve(Q, rhs[..., None])[..., 0]
    z = streams.normal(F)
    g = mean + np.linalg.solve(np.swapaxes(L, -1, -2), z[..., None])[..., 0]
    small = state.small.copy()
    small[:, p : p + F] = g
    dev = a - np.einsum("jl,clk->cjk", U, model.gamma_matrix(small))
    return state._replace(small=small, dev=dev, stats=None)


def intercept_index(model: MixedModel) -> int | None:
    """Index in s of the intercept (U's constant column, first effect), if the model has one."""
    d = model.data
    if d.q == 0 or not np.all(d.U[:, model.intercept_row] == 1.0):
        return None
    where = np.flatnonzero(model.free_idx == model.intercept_row * model.K)
    return int(model.p + where[0]) if where.size else None


def factor_translation(streams, state: MixedState, model: MixedModel) -> MixedState:
    """Draw c exactly along b_f - c, gamma_0 + c for every factor: eta does not change.

    Every row has one level of each factor and the intercept, so only the priors see c: a
    Gaussian with precision P_00 + J_f / sigma_f^2 under the intercept's Normal (or flat) prior.
    """
    i0 = intercept_index(model)
    if not model.factors or i0 is None:
        return state
    small = state.small.copy()
    P, Pm = model.P_small, model.Pm_small
    for k, f in enumerate(model.factors):
        sl = slice(model.offsets[k], model.offsets[k + 1])
        var = state.sigma_f[:, k] ** 2
        prec = P[i0, i0] + len(f.levels) / var
        linear = Pm[i0] - small @ P[i0] + small[:, sl].sum(axis=1) / var
        c = linear / prec + streams.normal(1)[:, 0] / np.sqrt(prec)
        small[:, i0] += c
        small[:, sl] -= c[:, None]
    return state._replace(small=small, stats=None)


def exact_schemes(family) -> dict[str, tuple[Block, ...]]:
    """Return the ``integrated`` scheme for a family whose likelihood these moves evaluate.

    Such a family has ``exact_locations = True``, ``eta_loglik(eta, y, disp)`` (log-concave in
    eta) and ``eta_information_bound(disp)``; its dispersion step needs no latent variables.
    """
    if not getattr(family, "exact_locations", False):
        return {}
    return {
        "integrated": (
            Block("dispersion", dispersion_block),
            Block("deviations", exact_deviations),
            Block("factor_effects", exact_factor_effects),
            Block("beta", exact_beta),
            Block("gamma", gamma_given_coefficients),
            Block("factor_translation", factor_translation),
            Block("group_scale", update_group_scale),
            Block("factor_scales", update_factor_scales),
        )
    }
