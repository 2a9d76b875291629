"""Monte Carlo standard errors by batch means of influence functions, with their degrees of freedom.

Each compared statistic T (mean, sd, 5% and 95% quantiles) is, to first order, the average of its
influence function over the draws::

    mean: x        sd: ((x - m)^2 - s^2) / (2 s)        q_p: (p - 1{x <= q_p}) / f(q_p)

so its MCSE is that of a mean, estimated here by non-overlapping batch means: each chain is cut
into k batches of b draws, and with B = C k batches the squared MCSE is the variance of the B
batch averages over B. When the batches are long against the chain's autocorrelation, the batch
averages are close to independent and normal, and the squared MCSE is a scaled chi-square with
B - 1 degrees of freedom: a z-score against it follows Student's t, not the normal. That is what
the comparison's p-values use (:func:`validation.compare.decide`, Welch-Satterthwaite over the two
samplers). ArviZ's estimates (Geyer's initial sequence; order-statistic spacings for quantiles)
come with no such count and, at 4 x 1000 draws, their quantile MCSEs vary by about 19% from run
to run: enough to give a correct pair |z| > 4 several times too often (docs/harness.md).

The batch length is 50 times the integrated autocorrelation time N / ESS (at least 50 draws),
which keeps the batch averages' correlation negligible. A quantile's density f(q_p) is a central
difference of the empirical quantile function over a window holding about 100 effective draws;
its own relative error (1 / sqrt(effective draws in the window)) enters the degrees of freedom.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["MIN_BATCH", "batch_mcse", "stacked_scalars"]

# Batches at least this long, and this many autocorrelation times long.
MIN_BATCH = 50
_TAU_MULTIPLE = 50
# Effective draws in a quantile's density window (a relative error of about 10%).
_DENSITY_DRAWS = 100
_PROBS = {"q05": 0.05, "q95": 0.95}


def stacked_scalars(posterior: xr.Dataset) -> tuple[list[str], np.ndarray]:
    """Labels ``var[coord, ...]`` (as ``flatten_scalars`` in compare) and draws (C, N, P)."""
    labels: list[str] = []
    blocks = []
    for name, da in posterior.data_vars.items():
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        da = da.transpose("chain", "draw", *extra)
        if not extra:
            labels.append(name)
            blocks.append(da.values[..., None])
            continue
        stacked = da.stack(__elem=extra)
        for idx in stacked["__elem"].values:
            idx = idx if isinstance(idx, tuple) else (idx,)
            labels.append(f"{name}[{', '.join(str(i) for i in idx)}]")
        blocks.append(stacked.values)
    return labels, np.concatenate(blocks, axis=2).astype(float)


def _batch_var(
    values: np.ndarray, batch: np.ndarray, tau: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Squared MCSE of the mean of ``values`` (C, N, P) by batch means, and its degrees of freedom.

    The squared MCSE of B normal batch averages is a chi-square with B - 1 df (relative variance
    2 / (B - 1)); batch averages of a heavy-tailed function (the sd's squared deviations of a
    skewed marginal) add their excess kurtosis over B, estimated from the draws' kurtosis over
    the batch's effective length b / tau. nu = 2 / relative variance (Satterthwaite).
    """
    chains, n, p = values.shape
    var = np.full(p, np.nan)
    nu = np.full(p, np.nan)
    flat = values.reshape(chains * n, p)
    centred = flat - flat.mean(axis=0)
    m2 = np.mean(centred**2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kurtosis = np.nan_to_num(np.mean(centred**4, axis=0) / m2**2 - 3.0, nan=0.0)
    for b in np.unique(batch):
        cols = np.flatnonzero(batch == b)
        k = max(1, n // b)
        b_used = n // k  # k batches covering the chain, dropping at most k - 1 early draws
        count = chains * k
        if count < 2:
            continue
        kept = values[:, n - k * b_used :, cols].reshape(count, b_used, cols.size)
        var[cols] = kept.mean(axis=1).var(axis=0, ddof=1) / count
        excess = np.maximum(kurtosis[cols], 0.0) * np.maximum(tau[cols], 1.0) / b_used
        nu[cols] = 2.0 / (2.0 / (count - 1) + excess / count)
    return var, nu


def _column_quantiles(ordered: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantile ``probs[j]`` of sorted column j, as ``np.quantile``'s default computes it."""
    pos = probs * (ordered.shape[0] - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, ordered.shape[0] - 1)
    cols = np.arange(ordered.shape[1])
    a, b, t = ordered[lo, cols], ordered[hi, cols], pos - lo
    # numpy's lerp: from the nearer end, so that t = 1 gives b exactly.
    return np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)


def batch_mcse(posterior: xr.Dataset, ess: pd.Series) -> pd.DataFrame:
    """MCSEs of mean, sd, q05 and q95 by batch means, and each one's degrees of freedom.

    Parameters
    ----------
    posterior : Dataset
        Draws shaped (chain, draw, ...).
    ess : Series
        An effective sample size per scalar (labelled as :func:`stacked_scalars`), used only to
        choose the batch length and the density window.

    Returns
    -------
    DataFrame
        Columns ``mcse_<stat>`` and ``nu_<stat>`` for each statistic, one row per scalar.
    """
    labels, draws = stacked_scalars(posterior)
    chains, n, _ = draws.shape
    total = chains * n
    ess_v = np.clip(ess.loc[labels].to_numpy(dtype=float), 1.0, None)
    tau = np.where(np.isfinite(ess_v), total / ess_v, n)
    batch = np.maximum(MIN_BATCH, np.ceil(_TAU_MULTIPLE * np.maximum(tau, 1.0))).astype(int)
    batch = np.minimum(batch, n)

    flat = draws.reshape(total, -1)
    ordered = np.sort(flat, axis=0)
    mean = flat.mean(axis=0)
    sd = flat.std(axis=0, ddof=1)
    out: dict[str, np.ndarray] = {}
    var, nu = _batch_var(draws, batch, tau)
    out["mcse_mean"], out["nu_mean"] = np.sqrt(var), nu
    with np.errstate(divide="ignore", invalid="ignore"):
        influence = ((draws - mean) ** 2 - sd**2) / (2.0 * sd)
    var, nu = _batch_var(influence, batch, tau)
    out["mcse_sd"], out["nu_sd"] = np.sqrt(var), nu
    for stat, prob in _PROBS.items():
        q = _column_quantiles(ordered, np.full(flat.shape[1], prob))  # already sorted
        # Window of about _DENSITY_DRAWS effective draws, inside (0, 1).
        h = np.minimum(
            _DENSITY_DRAWS * np.maximum(tau, 1.0) / (2.0 * total), min(prob, 1 - prob) / 2
        )
        spread = _column_quantiles(ordered, prob + h) - _column_quantiles(ordered, prob - h)
        inv_density = spread / (2.0 * h)
        indicator = (draws <= q).astype(float)
        var_ind, nu_ind = _batch_var(indicator, batch, tau)
        out[f"mcse_{stat}"] = np.sqrt(var_ind) * inv_density
        # Squared relative errors of the MCSE add: the batch means' 1 / (2 nu) and the
        # density's 1 / (effective draws in the window); a t with nu df has 1 / (2 nu).
        rel_var = 1.0 / (2.0 * nu_ind) + np.maximum(tau, 1.0) / (2.0 * h * total)
        out[f"nu_{stat}"] = 1.0 / (2.0 * rel_var)
    return pd.DataFrame(out, index=labels)
