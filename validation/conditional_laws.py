"""Closed-form full conditionals shared by the identity checks, written from the priors' densities.

Nothing here calls the kernels: a conditional is rebuilt from the data, the prior and the other
parameters of a draw, so that an identity check does not repeat a slip of the code it checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

__all__ = ["chi2_pit", "location_precision", "normal_residual_statistics", "scale_law"]


def location_precision(prior: Any, dim: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Prior precision and precision-times-mean of a flat or normal prior, or None for others."""
    precision = getattr(prior, "precision", None)
    return None if precision is None else precision(dim)


def chi2_pit(x: np.ndarray, Q: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Conditional CDF of (x - Q^-1 rhs)' Q (x - Q^-1 rhs), a chi^2 with dim(x) degrees of freedom.

    Uniform on (0, 1) under the posterior; bounded, so its Monte Carlo error stays honest when a
    broken sampler's quadratic form has heavy tails.
    """
    mean = np.linalg.solve(Q, rhs[..., None])[..., 0]
    d = x - mean
    return stats.chi2.cdf(np.einsum("...i,...ij,...j->...", d, Q, d), x.shape[-1])


def scale_law(prior: Any):
    """``pit(ss, variance, m)`` of a scale prior whose full conditional is inverse-gamma, or None.

    With a sum of squares ``ss`` over ``m`` terms, ss / sigma^2 ~ chi^2_{m-1} under
    p(sigma) = 1, chi^2_m under p(sigma) = 1 / sigma, and (2 beta + ss) / sigma^2 ~
    chi^2_{2 alpha + m} under sigma^2 ~ IG(alpha, beta); under a half-normal(s) prior the
    density of v = sigma^2 is proportional to v^{-(m+1)/2} exp(-ss / (2 v) - v / (2 s^2)), a
    generalized inverse Gaussian GIG(-(m-1)/2, 1/s^2, ss), which is scipy's standardised
    ``geninvgauss(p, sqrt(ss) / s)`` scaled by s sqrt(ss).
    """
    from gibbs.priors import HalfNormal, InverseGamma, UniformLogSigma, UniformSigma

    def half_normal(ss, v, m):
        root = np.sqrt(ss)
        return stats.geninvgauss.cdf(v / (prior.sigma * root), -(m - 1) / 2.0, root / prior.sigma)

    laws = {
        UniformSigma: lambda ss, v, m: stats.chi2.cdf(ss / v, m - 1),
        UniformLogSigma: lambda ss, v, m: stats.chi2.cdf(ss / v, m),
        InverseGamma: lambda ss, v, m: stats.chi2.cdf(
            (2.0 * prior.beta + ss) / v, 2.0 * prior.alpha + m
        ),
        HalfNormal: half_normal,
    }
    return laws.get(type(prior))


def normal_residual_statistics(r: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    """Return the three statistics of standardised conditional residuals r (N(0, 1) each).

    Means over the last axis of r^2 (exactly 1), of r (0) and of 1{|r| < 1} (2 Phi(1) - 1).
    """
    return {
        f"{prefix}_r2": np.mean(r * r, axis=-1),
        f"{prefix}_r": np.mean(r, axis=-1),
        f"{prefix}_inside": np.mean(np.abs(r) < 1.0, axis=-1),
    }
