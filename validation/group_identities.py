"""Identities of the group level, which hold whatever the family, and of crossed Gaussian factors.

The group level of every configuration is a Gaussian linear model in the stored draws: given the
group intercepts alpha (which include the nested factors' effects),

    alpha_j = U_j gamma + sum_{f nested} b_f[f(j)] + eta_j,  eta_j ~ N(0, sigma_alpha^2),
    b_f[l] ~ N(0, sigma_f^2),

so gamma, every nested factor's effects and every scale with a conjugate prior have closed-form
full conditionals that do not involve y: the same identities hold for the logistic, probit and
count families as for the Gaussian one. With varying slopes, (gamma, the mean slopes) given the
K-variate alpha_j and Sigma is Gaussian too. In the Gaussian family the row level adds the
conditionals of alpha, of every crossed factor's effects, of beta and of sigma_y.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from validation.conditional_laws import (
    chi2_pit,
    location_precision,
    normal_residual_statistics,
    scale_law,
)

__all__ = [
    "gaussian_factor_row_statistics",
    "group_level_statistics",
    "slopes_mean_statistics",
]

#: Floats (chains x draws x rows) handled at once by the row-level statistics.
_ROW_FLOATS = 4_000_000


def _values(post, name: str, C: int, D: int) -> np.ndarray:
    return np.asarray(post[name].values, float).reshape(C, D, -1)


def _level_sums(values: np.ndarray, codes: np.ndarray, L: int) -> np.ndarray:
    """Sum ``values`` (..., m) over the entries sharing a code in ``codes`` (m,): (..., L)."""
    lead = values.shape[:-1]
    R = int(np.prod(lead, dtype=np.int64))
    index = (np.arange(R)[:, None] * L + codes[None, :]).ravel()
    sums = np.bincount(index, weights=values.reshape(R, -1).ravel(), minlength=R * L)
    return sums.reshape(*lead, L)


def group_level_statistics(post, spec: Any) -> dict[str, np.ndarray]:
    """Per-draw statistics (chain, draw) of the group level's identities, for any family.

    gamma's conditional chi^2 CDF (flat or normal prior), sigma_alpha's and every factor scale's
    (conjugate priors), and the standardised conditional residuals of every nested factor's
    effects, b_f[l] | rest ~ N(m_l, 1 / P_l), P_l = c_l / sigma_alpha^2 + 1 / sigma_f^2 with c_l
    groups in level l and m_l = sum_{j in l} (alpha_j - U_j gamma - other nested) / sigma_alpha^2
    / P_l.
    """
    data, priors = spec.data, spec.priors
    U = np.asarray(data.U, float)
    J, q = data.n_groups, data.q
    alpha = np.asarray(post["alpha"].values, float)
    C, D = alpha.shape[:2]
    gamma = _values(post, "gamma", C, D)
    va = np.asarray(post["sigma_alpha"].values, float) ** 2
    effects = {f.name: _values(post, f"{f.name}_effect", C, D) for f in spec.factors}
    variances = {
        f.name: np.asarray(post[f"sigma_{f.name}"].values, float) ** 2 for f in spec.factors
    }
    nested = [f for f in spec.factors if f.nested]
    gamma_prior = location_precision(priors.gamma, q)
    scale_a = scale_law(priors.sigma_alpha)
    factor_laws = {f.name: scale_law(priors.factor_scale(f.name)) for f in spec.factors}

    def statistics(s: slice) -> dict[str, np.ndarray]:
        a, g, v_a = alpha[:, s], gamma[:, s], va[:, s]
        b = {name: e[:, s] for name, e in effects.items()}
        nest = {f.name: b[f.name][..., f.group_level] for f in nested}
        dev = a - g @ U.T - sum(nest.values(), np.zeros_like(a))
        out: dict[str, np.ndarray] = {}
        if gamma_prior is not None:
            P, Pm = gamma_prior
            Q = U.T @ U / v_a[..., None, None] + P
            out["gamma_pit"] = chi2_pit(g, Q, ((dev + g @ U.T) @ U) / v_a[..., None] + Pm)
        if scale_a is not None:
            out["sigma_alpha_pit"] = scale_a(np.sum(dev * dev, axis=-1), v_a, J)
        for f in nested:
            L = len(f.levels)
            count = np.bincount(f.group_level, minlength=L).astype(float)
            partial = _level_sums(dev + nest[f.name], f.group_level, L)
            prec = count / v_a[..., None] + 1.0 / variances[f.name][:, s, None]
            r = (b[f.name] - partial / v_a[..., None] / prec) * np.sqrt(prec)
            out |= normal_residual_statistics(r, f"{f.name}_effect")
        for f in spec.factors:
            law = factor_laws[f.name]
            if law is not None:
                e = b[f.name]
                out[f"sigma_{f.name}_pit"] = law(
                    np.sum(e * e, axis=-1), variances[f.name][:, s], e.shape[-1]
                )
        return out

    return _by_chunks(statistics, D, max(1, _ROW_FLOATS // (C * max(J, 1))))


def _by_chunks(statistics, D: int, step: int) -> dict[str, np.ndarray]:
    """Evaluate ``statistics(slice)`` over consecutive slices of the draws and join the results."""
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, D, step):
        for key, value in statistics(slice(start, start + step)).items():
            parts.setdefault(key, []).append(value)
    return {key: np.concatenate(values, axis=1) for key, values in parts.items()}


def gaussian_factor_row_statistics(post, spec: Any) -> dict[str, np.ndarray]:
    """Per-draw statistics of the Gaussian row level with further factors, (chain, draw) each.

    With the row residuals e_i = y_i - alpha_j[i] - X_i beta - sum_{f crossed} b_f[f(i)]: alpha_j
    and every crossed effect b_f[l] given the rest are N(m, 1 / P) with P = n / sigma_y^2 +
    1 / prior variance over the n rows they enter (the prior mean of alpha_j is U_j gamma plus its
    nested effects), beta's quadratic form is chi^2_p and sigma_y's sum of squares is
    chi^2 under its conjugate prior.
    """
    data, priors = spec.data, spec.priors
    y = np.asarray(data.y, float) - data.linear_offset
    group, X, U = np.asarray(data.group), np.asarray(data.X, float), np.asarray(data.U, float)
    J, p, n = data.n_groups, data.p, data.n
    alpha = np.asarray(post["alpha"].values, float)
    C, D = alpha.shape[:2]
    gamma = _values(post, "gamma", C, D)
    beta = _values(post, "beta", C, D) if p else np.zeros((C, D, 0))
    vy = np.asarray(post["sigma_y"].values, float) ** 2
    va = np.asarray(post["sigma_alpha"].values, float) ** 2
    effects = {f.name: _values(post, f"{f.name}_effect", C, D) for f in spec.factors}
    variances = {
        f.name: np.asarray(post[f"sigma_{f.name}"].values, float) ** 2 for f in spec.factors
    }
    crossed = [f for f in spec.factors if not f.nested]
    n_j = np.bincount(group, minlength=J).astype(float)
    n_l = {f.name: np.bincount(f.codes, minlength=len(f.levels)).astype(float) for f in crossed}
    xtx = X.T @ X
    beta_prior = location_precision(priors.beta, p) if p else None
    scale_y = scale_law(priors.sigma_y)
    keys = ["alpha"] + [f"{f.name}_effect" for f in crossed]

    def statistics(s: slice) -> dict[str, np.ndarray]:
        a, b, v_y = alpha[:, s], beta[:, s], vy[:, s, None]
        fit = a[..., group] + b @ X.T
        for f in crossed:
            fit = fit + effects[f.name][:, s][..., f.codes]
        resid = y - fit
        center = gamma[:, s] @ U.T
        for f in spec.factors:
            if f.nested:
                center = center + effects[f.name][:, s][..., f.group_level]
        prec = n_j / v_y + 1.0 / va[:, s, None]
        mean = ((_level_sums(resid, group, J) + n_j * a) / v_y + center / va[:, s, None]) / prec
        chunk = normal_residual_statistics((a - mean) * np.sqrt(prec), keys[0])
        for f, key in zip(crossed, keys[1:], strict=True):
            e, L = effects[f.name][:, s], len(f.levels)
            prec = n_l[f.name] / v_y + 1.0 / variances[f.name][:, s, None]
            partial = _level_sums(resid, f.codes, L) + n_l[f.name] * e
            chunk |= normal_residual_statistics((e - partial / v_y / prec) * np.sqrt(prec), key)
        if beta_prior is not None:
            P, Pm = beta_prior
            Q = xtx / v_y[..., None] + P
            rhs = (resid @ X + b @ xtx) / v_y + Pm
            chunk["beta_pit"] = chi2_pit(b, Q, rhs)
        if scale_y is not None:
            chunk["sigma_y_pit"] = scale_y(np.sum(resid * resid, axis=-1), v_y[..., 0], n)
        return chunk

    return _by_chunks(statistics, D, max(1, _ROW_FLOATS // (C * max(n, 1))))


def slopes_mean_statistics(post, spec: Any, Sigma: np.ndarray) -> dict[str, np.ndarray]:
    """Return the chi^2 CDF of (gamma, mean slopes) given the K-variate alpha_j and Sigma.

    mu_j = B_j theta with theta = (gamma, gamma_slope): row 0 of B_j is (U_j, 0), row k the k-th
    mean slope. Given alpha and Sigma, theta ~ N(Q^-1 r, Q^-1), Q = sum_j B_j' Sigma^-1 B_j +
    prior precision, r = sum_j B_j' Sigma^-1 alpha_j + prior precision x mean. Applies when the
    prior on Gamma's elements is flat or a normal with one mean and one sd for all of them.
    """
    prior = spec.priors.gamma
    if np.ndim(getattr(prior, "mu", 0.0)) or np.ndim(getattr(prior, "sigma", 0.0)):
        return {}
    U = np.asarray(spec.data.U, float)
    J, q, K = spec.data.n_groups, spec.data.q, spec.K
    alpha = np.asarray(post["alpha"].values, float)  # (C, D, J, K)
    C, D = alpha.shape[:2]
    theta = [_values(post, "gamma", C, D)]
    if K > 1:
        theta.append(_values(post, "gamma_slope", C, D))
    theta = np.concatenate(theta, axis=-1)
    B = np.zeros((J, K, q + K - 1))
    B[:, 0, :q] = U
    for k in range(1, K):
        B[:, k, q + k - 1] = 1.0
    located = location_precision(prior, q + K - 1)
    if located is None:
        return {}
    P, Pm = located
    BB = np.einsum("jka,jlb->klab", B, B)
    S_inv = np.linalg.inv(Sigma)
    Q = np.einsum("cdkl,klab->cdab", S_inv, BB) + P
    rhs = np.einsum("jka,cdjk->cda", B, np.einsum("cdkl,cdjl->cdjk", S_inv, alpha)) + Pm
    return {"gamma_pit": chi2_pit(theta, Q, rhs)}
