"""The marginal posterior density of the two scales, written apart from the samplers' kernels.

An exact reference is only a reference if it shares no code with what it checks: the fully
collapsed scheme samples the scales on the density of :func:`gibbs.kernels.marginal.
log_marginal_scales`, so the quadrature takes its density from here instead, derived again from
the model and with the priors' densities from scipy, not from :mod:`gibbs.priors`.

With theta = (beta, gamma), D_i = (X_i, U_j[i]) and the group effects integrated out, the rows of
group j are N(D_j theta, V_j) with V_j = sigma_y^2 I + sigma_alpha^2 1 1', so that (n_j > 0)

    V_j^-1 = (I - c_j 1 1') / sigma_y^2,  c_j = sigma_alpha^2 / (sigma_y^2 + n_j sigma_alpha^2),
    log |V_j| = (n_j - 1) log sigma_y^2 + log(sigma_y^2 + n_j sigma_alpha^2),

and with theta ~ N(m, P^-1) (P = 0 when flat) integrated out,

    log p(y | scales) = -1/2 (sum_j log |V_j| + y'V^-1 y + log |Q| - b'Q^-1 b) + const,
    Q = D'V^-1 D + P,  b = D'V^-1 y + P m.

Every quadratic form is split into its within-group part and its group-means part (1/n_j - c_j
= sigma_y^2 / (n_j (sigma_y^2 + n_j sigma_alpha^2)) is positive), so nothing cancels when
sigma_alpha is large.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

__all__ = ["location_prior", "log_marginal_scales", "scale_log_density"]


def scale_log_density(prior: Any, sigma: np.ndarray) -> np.ndarray:
    """Log prior density of a standard deviation, from scipy's distributions.

    Uniform on sigma (improper): 0; uniform on log sigma: -log sigma; an inverse-gamma(a, b) on
    sigma^2 carried to sigma (Jacobian 2 sigma); half-t(nu, s) and half-normal(s) on sigma.
    """
    from gibbs.priors import HalfNormal, HalfStudentT, InverseGamma, UniformLogSigma, UniformSigma

    sigma = np.asarray(sigma, float)
    laws = {
        UniformSigma: lambda: np.zeros_like(sigma),
        UniformLogSigma: lambda: -np.log(sigma),
        InverseGamma: lambda: (
            stats.invgamma.logpdf(sigma**2, prior.alpha, scale=prior.beta) + np.log(2.0 * sigma)
        ),
        HalfStudentT: lambda: np.log(2.0) + stats.t.logpdf(sigma, prior.nu, scale=prior.sigma),
        HalfNormal: lambda: stats.halfnorm.logpdf(sigma, scale=prior.sigma),
    }
    if type(prior) not in laws:
        raise ValueError(f"no exact reference for the scale prior {prior!r}")
    return laws[type(prior)]()


def location_prior(prior: Any, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision matrix P and P m of a flat or normal prior on ``dim`` coefficients."""
    from gibbs.priors import Flat, Normal

    if isinstance(prior, Flat):
        return np.zeros((dim, dim)), np.zeros(dim)
    if isinstance(prior, Normal):
        mu = np.broadcast_to(np.asarray(prior.mu, float), (dim,))
        prec = np.broadcast_to(np.asarray(prior.sigma, float), (dim,)) ** -2.0
        return np.diag(prec), prec * mu
    raise ValueError(f"no exact reference for the location prior {prior!r}")


#: Points evaluated at once (the group terms are points x groups floats).
_CHUNK = 8192


def log_marginal_scales(x: np.ndarray, data, priors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log density of (log sigma_y, log sigma_alpha) given y, up to a constant, at many points.

    Parameters
    ----------
    x : ndarray, shape (m, 2)
        Points (log sigma_y, log sigma_alpha).
    data : HierarchicalData
    priors : Priors

    Returns
    -------
    logp : ndarray, shape (m,)
        The log density (the Jacobian of the logs included); -inf where Q is not positive
        definite in floating point.
    L : ndarray, shape (m, d, d)
        Cholesky factor of Q, the precision of theta given the scales.
    w : ndarray, shape (m, d)
        L^-1 b: theta | scales, y ~ N(L^-T w, Q^-1).
    """
    y = np.asarray(data.y, float) - data.linear_offset
    group = np.asarray(data.group)
    D = np.column_stack([np.asarray(data.X, float), np.asarray(data.U, float)[group]])
    J, d = data.n_groups, D.shape[1]
    n_j = np.bincount(group, minlength=J).astype(float)
    seen = n_j > 0
    n_j = n_j[seen]
    sum_y = np.bincount(group, y, minlength=J)[seen]
    sum_D = np.stack([np.bincount(group, D[:, k], minlength=J)[seen] for k in range(d)], axis=1)
    # Within-group parts: sum over rows of the cross-products minus n_j times the group means'.
    within_DD = D.T @ D - (sum_D / n_j[:, None]).T @ sum_D
    within_Dy = D.T @ y - (sum_D / n_j[:, None]).T @ sum_y
    within_yy = float(y @ y - np.sum(sum_y**2 / n_j))
    P, Pm = location_prior(priors.beta, data.p)
    Pg, Pgm = location_prior(priors.gamma, data.q)
    P_theta = np.zeros((d, d))
    P_theta[: data.p, : data.p], P_theta[data.p :, data.p :] = P, Pg
    Pm_theta = np.concatenate([Pm, Pgm])

    parts = [
        _at_points(
            x[k : k + _CHUNK],
            data.n,
            n_j,
            sum_y,
            sum_D,
            within_DD,
            within_Dy,
            within_yy,
            P_theta,
            Pm_theta,
            priors,
        )
        for k in range(0, x.shape[0], _CHUNK)
    ]
    return tuple(np.concatenate([part[i] for part in parts]) for i in range(3))


def _at_points(x, n, n_j, sum_y, sum_D, within_DD, within_Dy, within_yy, P_theta, Pm_theta, priors):
    d = P_theta.shape[0]
    vy, va = np.exp(2.0 * x[:, 0]), np.exp(2.0 * x[:, 1])
    total = vy[:, None] + n_j[None, :] * va[:, None]  # sigma_y^2 + n_j sigma_alpha^2
    e = 1.0 / (n_j[None, :] * total)  # (1/n_j - c_j) / sigma_y^2
    outer = sum_D[:, :, None] * sum_D[:, None, :]  # (G, d, d)
    Q = within_DD / vy[:, None, None] + (e @ outer.reshape(len(n_j), d * d)).reshape(-1, d, d)
    Q = Q + P_theta
    b = within_Dy / vy[:, None] + e @ (sum_D * sum_y[:, None]) + Pm_theta
    y_quad = within_yy / vy + e @ (sum_y**2)
    log_det_v = (n - n_j.size) * np.log(vy) + np.sum(np.log(total), axis=1)
    logp = np.full(x.shape[0], -np.inf)
    L = np.broadcast_to(np.eye(d), Q.shape).copy()
    w = np.zeros((x.shape[0], d))
    try:
        np.linalg.cholesky(Q)
        ok = np.ones(x.shape[0], bool)
    except np.linalg.LinAlgError:  # only far out on the grid: find the points that fail
        ok = np.all(np.linalg.eigvalsh(Q) > 0, axis=1)
    if ok.any():
        L[ok] = np.linalg.cholesky(Q[ok])
        w[ok] = np.linalg.solve(L[ok], b[ok][..., None])[..., 0]
        log_det_q = 2.0 * np.sum(np.log(np.diagonal(L[ok], axis1=-2, axis2=-1)), axis=-1)
        logp[ok] = (
            -0.5 * (log_det_v[ok] + y_quad[ok] + log_det_q - np.sum(w[ok] ** 2, axis=-1))
            + scale_log_density(priors.sigma_y, np.sqrt(vy[ok]))
            + scale_log_density(priors.sigma_alpha, np.sqrt(va[ok]))
            + x[ok, 0]
            + x[ok, 1]
        )
    return logp, L, w
