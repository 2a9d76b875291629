"""Draws of a standard deviation from its full conditional, for every scale prior.

Two situations occur in the samplers:

- the *centered* conditional, given a sum of squares ``SS`` over ``m`` Gaussian terms with that
  scale: conjugate for every family (see :mod:`gibbs.priors`);
- the *non-centered* conditional used by interweaving, where the scale multiplies standardized
  effects and enters the likelihood as ``exp(-(A sigma^2 - 2 B sigma) / (2 sigma_y^2))``: a
  truncated normal for flat and half-normal priors, an exact slice-sampling step otherwise.

All functions act on a batch of chains (leading axis) and are pure given the streams.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from gibbs.kernels.gig import gig_standard
from gibbs.kernels.slice_groups import slice_step_grouped
from gibbs.kernels.tuning import current
from gibbs.priors import (
    HalfNormal,
    HalfStudentT,
    InverseGamma,
    ScalePrior,
    UniformLogSigma,
    UniformSigma,
)
from gibbs.streams import ChainStreams

__all__ = [
    "draw_centered_scale",
    "draw_noncentered_scale",
    "slice_cholesky",
    "truncated_normal_positive",
]

# Sums of squares this small would make the variance draw exactly 0 (and the next step divide by
# it); they only occur for degenerate data, where a clear floor beats a NaN.
_TINY = 1e-300

# Shrinkage proposals after which a slice update keeps its current point: each proposal at least
# halves the interval on average, so 200 of them reach the resolution of a double many times over.
_MAX_SHRINK = 200


def draw_centered_scale(
    streams: ChainStreams, prior: ScalePrior, ss: np.ndarray, m: int, aux: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Draw sigma from p(sigma | SS) under ``prior``, given ``SS`` over ``m`` terms.

    Parameters
    ----------
    streams : ChainStreams
        The chains' random streams.
    prior : scale prior
        Prior on sigma.
    ss : ndarray, shape (chains,)
        Sum of squared deviations.
    m : int
        Number of terms in ``ss``.
    aux : ndarray, shape (chains,)
        Auxiliary variable of the half-t mixture (ignored by other priors).

    Returns
    -------
    sigma, aux : ndarray, shape (chains,)
    """
    ss = np.maximum(ss, _TINY)
    if isinstance(prior, UniformSigma | UniformLogSigma):
        # SS / chi^2_df with chi^2_df = 2 Gamma(df / 2).
        variance = ss / (2.0 * streams.gamma(prior.variance_shape(m)))
    elif isinstance(prior, InverseGamma):
        variance = (prior.beta + 0.5 * ss) / streams.gamma(prior.variance_shape(m))
    elif isinstance(prior, HalfStudentT):
        variance = (prior.nu / aux + 0.5 * ss) / streams.gamma(prior.variance_shape(m))
        aux = (prior.nu / variance + prior.sigma**-2.0) / streams.gamma(prior.aux_shape())
    elif isinstance(prior, HalfNormal):
        variance = _draw_gig(streams, -(m - 1) / 2.0, prior.sigma**-2.0, ss)
    else:  # pragma: no cover - Priors.check rejects anything else
        raise TypeError(f"unknown scale prior {prior!r}")
    return np.sqrt(variance), aux


def draw_collapsed_scale(
    streams: ChainStreams,
    prior: ScalePrior,
    sigma: np.ndarray,
    resid: np.ndarray,
    noise_var: np.ndarray,
) -> np.ndarray:
    """Draw sigma from p(sigma) prod_j N(resid_j | 0, noise_var_j + sigma^2), per chain.

    The conditional of a group-level scale with the group effects integrated out; one exact
    slice-sampling update on log sigma (the Jacobian adds log sigma), for any scale prior.

    Parameters
    ----------
    streams : ChainStreams
    prior : scale prior
    sigma : ndarray, shape (chains,)
        Current values.
    resid, noise_var : ndarray, shape (chains, k)
        Residual of each group and its variance given the group effect.

    Returns
    -------
    ndarray, shape (chains,)
    """
    resid2 = (resid * resid)[:, None, :]
    noise_var = noise_var[:, None, :]
    flat = isinstance(prior, UniformSigma)

    def logf(x: np.ndarray) -> np.ndarray:  # x: (chains, k) values of log sigma
        v = noise_var + np.exp(2.0 * x)[..., None]
        out = x - 0.5 * (np.log(v) + resid2 / v).sum(axis=-1)
        return out if flat else out + prior.logpdf(np.exp(x))

    return np.exp(slice_step_batched(streams, logf, np.log(sigma), width=current().slice_width))


def _draw_gig(streams: ChainStreams, p: float, a: float, b: np.ndarray) -> np.ndarray:
    """Draw GIG(p, a, b) (density x^(p-1) exp(-(a x + b/x) / 2)), every chain at once.

    x = sqrt(b / a) X with X standard GIG(p, sqrt(a b)) (:func:`gibbs.kernels.gig.gig_standard`).
    """
    return np.sqrt(b / a) * gig_standard(p, np.sqrt(a * b), streams.slow)


def truncated_normal_positive(mean: np.ndarray, sd: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw of N(mean, sd^2) truncated to (0, inf), stable far in the tails.

    With ``a = -mean / sd`` the draw is ``mean + sd Z``, ``Z > a``; ``-Z`` is a standard normal
    truncated above at ``-a``, drawn in log space so that an extreme truncation keeps precision.
    """
    log_mass = special.log_ndtr(mean / sd)  # log P(Z > a)
    z = -special.ndtri_exp(np.log1p(-u) + log_mass)
    return np.maximum(mean + sd * z, np.finfo(float).tiny)


def draw_noncentered_scale(
    streams: ChainStreams,
    prior: ScalePrior,
    sigma: np.ndarray,
    quad: np.ndarray,
    lin: np.ndarray,
    noise_var: np.ndarray,
    aux: np.ndarray,
) -> np.ndarray:
    """Draw sigma from p(sigma) exp(-(quad sigma^2 - 2 lin sigma) / (2 noise_var)).

    This is the conditional of a scale that multiplies standardized effects (the non-centered
    parameterization). For the half-t prior the conditional prior given ``aux``,
    sigma^2 | aux ~ IG(nu/2, nu/aux), is used, which leaves the joint with ``aux`` invariant.

    Parameters
    ----------
    streams : ChainStreams
        The chains' random streams.
    prior : scale prior
        Prior on sigma (not UniformLogSigma, which Priors.check rejects for this scale).
    sigma : ndarray, shape (chains,)
        Current value (start of the slice sampler).
    quad, lin : ndarray, shape (chains,)
        Coefficients of the Gaussian likelihood term.
    noise_var : ndarray, shape (chains,)
        Residual variance of that likelihood.
    aux : ndarray, shape (chains,)
        Half-t auxiliary variable.

    Returns
    -------
    ndarray, shape (chains,)
    """
    if isinstance(prior, UniformSigma | HalfNormal):
        precision = quad / noise_var
        if isinstance(prior, HalfNormal):
            precision = precision + prior.sigma**-2.0
        mean = lin / noise_var / precision
        return truncated_normal_positive(mean, 1.0 / np.sqrt(precision), streams.uniform(1)[:, 0])
    if isinstance(prior, InverseGamma):
        shape, rate = np.full(sigma.shape, prior.alpha), np.full(sigma.shape, prior.beta)
    elif isinstance(prior, HalfStudentT):
        shape, rate = np.full(sigma.shape, prior.nu / 2.0), prior.nu / aux
    else:  # pragma: no cover
        raise TypeError(f"no non-centered draw for {prior!r}")
    out = np.empty(sigma.shape)
    for k, gen in enumerate(streams.slow):
        # Log density of x = log sigma: IG on sigma^2 gives sigma^(-2 shape) exp(-rate / sigma^2)
        # after the Jacobians of sigma^2 -> sigma -> log sigma.
        def logf(x, k=k):
            s = np.exp(x)
            return (
                -2.0 * shape[k] * x
                - rate[k] / (s * s)
                - (quad[k] * s * s - 2.0 * lin[k] * s) / (2.0 * noise_var[k])
            )

        out[k] = np.exp(_slice_step(gen, logf, np.log(sigma[k]), width=current().slice_width))
    return out


def _slice_step(
    gen: np.random.Generator, logf, x0: float, width: float, max_steps: int = 50
) -> float:
    """One univariate slice-sampling update (Neal 2003: stepping out, then shrinkage)."""
    level = logf(x0) + np.log1p(-gen.random())  # log of a uniform height under f(x0)
    left = x0 - width * gen.random()
    right = left + width
    steps = max_steps
    while steps > 0 and logf(left) > level:
        left -= width
        steps -= 1
    steps = max_steps
    while steps > 0 and logf(right) > level:
        right += width
        steps -= 1
    for _ in range(_MAX_SHRINK if np.isfinite(level) else 0):
        x1 = left + (right - left) * gen.random()
        if logf(x1) > level:
            return x1
        if x1 < x0:
            left = x1
        else:
            right = x1
    return x0  # see slice_step_batched: never reached for a finite log density


def slice_step_batched(
    streams: ChainStreams,
    logf,
    x0: np.ndarray,
    width: float = 1.0,
    max_steps: int = 8,
    budget: int = 16,
) -> np.ndarray:
    """One slice-sampling update for every chain at once (Neal 2003, section 4).

    Stepping out is limited to ``max_steps`` widths, split at random between the two sides
    (Neal's figure 3, which keeps the update reversible); both ends step out together. Then the
    interval shrinks towards the current point. Every chain consumes exactly ``budget`` uniforms
    from its own buffered stream per call (unused ones are discarded), and a chain that needs more
    shrinkage proposals takes them from its own unbuffered generator, so a chain's draws never
    depend on the other chains.

    Parameters
    ----------
    streams : ChainStreams
        The chains' random streams.
    logf : callable
        Maps a (chains, k) array of points to their log densities, shape (chains, k), up to a
        constant per chain.
    x0 : ndarray, shape (chains,)
        Current points.
    width : float or ndarray, shape (chains,)
        Width of one step of the interval (per chain: it may depend on the other coordinates).
    max_steps : int
        Largest number of widths the interval may span.
    budget : int
        Uniforms drawn per chain per call.

    Returns
    -------
    ndarray, shape (chains,)
    """
    # The grouped step with one coordinate per chain: the same uniforms, in the same order.
    width = np.broadcast_to(np.asarray(width, dtype=float), x0.shape)
    x = slice_step_grouped(
        streams,
        lambda a: logf(a[..., 0])[..., None],
        x0[:, None],
        width[:, None],
        max_steps=max_steps,
        budget=budget,
    )
    return x[:, 0]


def slice_cholesky(streams: ChainStreams, Sigma: np.ndarray, log_target) -> np.ndarray:
    """Update a covariance matrix Sigma = L L^T one coordinate of L at a time by slice sampling.

    The coordinates are u = (log L_kk, L_kl for k > l); ``log_target(L)`` takes candidate factors
    (chains, k, K, K) and returns the log density of u (chains, k), Jacobian included.
    """
    K = Sigma.shape[-1]
    L = np.linalg.cholesky(Sigma)
    for row in range(K):
        for col in range(row + 1):
            diagonal = row == col

            def logf(x, row=row, col=col, diagonal=diagonal, L=L):
                cand = np.repeat(L[:, None], x.shape[1], axis=1)
                cand[:, :, row, col] = np.exp(x) if diagonal else x
                return log_target(cand)

            x0 = np.log(L[:, row, col]) if diagonal else L[:, row, col]
            # Off-diagonal steps in units of the row's conditional sd (a function of the other
            # coordinates only, so the update stays reversible).
            scale = current().slice_width
            width = scale if diagonal else scale * L[:, row, row]
            x = slice_step_batched(streams, logf, x0, width=width)
            L = L.copy()
            L[:, row, col] = np.exp(x) if diagonal else x
    Sigma = L @ np.swapaxes(L, -1, -2)
    return Sigma
