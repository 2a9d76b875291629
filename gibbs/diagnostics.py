"""R-hat and bulk/tail ESS for many parameters at once, computed as ArviZ computes them.

ArviZ's ``rhat`` and ``ess`` loop over scalar parameters in Python, which costs more than a
whole Gibbs run of a small model. These are the same estimators (rank-normalised split R-hat,
Vehtari et al. 2021; Geyer's initial monotone sequence for the ESS), vectorised over the last
axis of a ``(chain, draw, parameter)`` array; ``tests/test_convergence.py`` checks that they
equal ArviZ's.
"""

from __future__ import annotations

import numpy as np
from scipy import fft, special

__all__ = ["bulk_z", "ess_bulk", "ess_tail", "rhat"]


def _split(x: np.ndarray) -> np.ndarray:
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, -half:]], axis=0)


def _ranks(flat: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) along the last axis of a (P, M) array, as scipy's ``rankdata``.

    One unstable sort per row; each run of equal values gets the mean of its positions.
    """
    P, M = flat.shape
    order = np.argsort(flat, axis=1)
    srt = np.take_along_axis(flat, order, axis=1)
    idx = np.broadcast_to(np.arange(M), (P, M))
    first = np.ones((P, M), dtype=bool)
    first[:, 1:] = srt[:, 1:] != srt[:, :-1]
    last = np.ones((P, M), dtype=bool)
    last[:, :-1] = first[:, 1:]
    start = np.maximum.accumulate(np.where(first, idx, 0), axis=1)
    end = np.minimum.accumulate(np.where(last, idx, M - 1)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty((P, M))
    np.put_along_axis(ranks, order, (start + end) / 2.0 + 1.0, axis=1)
    return ranks


def _z_scale(x: np.ndarray) -> np.ndarray:
    C, N, P = x.shape
    # Ranks along a contiguous axis: sorting along the strided one is several times slower.
    flat = np.ascontiguousarray(x.reshape(C * N, P).T)
    ranks = _ranks(flat).T
    return special.ndtri((ranks - 0.375) / (C * N + 0.25)).reshape(C, N, P)


def _rhat_raw(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    between = n * np.var(x.mean(axis=1), axis=0, ddof=1)
    within = np.mean(np.var(x, axis=1, ddof=1), axis=0)
    return np.sqrt((between / within + n - 1) / n)


def rhat(x: np.ndarray, z_bulk: np.ndarray | None = None) -> np.ndarray:
    """Rank-normalised split R-hat (the larger of the bulk and folded ones) per parameter.

    ``z_bulk``: the rank-normalised split draws, if already computed (:func:`ess_bulk` shares
    them).
    """
    x = np.asarray(x, dtype=float)
    folded = _split(np.abs(x - np.median(x.reshape(-1, x.shape[2]), axis=0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = _z_scale(_split(x)) if z_bulk is None else z_bulk
        return np.maximum(_rhat_raw(z), _rhat_raw(_z_scale(folded)))


def bulk_z(x: np.ndarray) -> np.ndarray:
    """Return the rank-normalised split draws behind bulk ESS and bulk R-hat."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _z_scale(_split(np.asarray(x, dtype=float)))


def _ess(x: np.ndarray) -> np.ndarray:
    """ESS of each parameter of ``x`` (chain, draw, P), as ArviZ's ``_ess``."""
    C, N, P = x.shape
    out = np.full(P, np.nan)
    constant = np.ptp(x.reshape(-1, P), axis=0) < np.finfo(float).resolution
    out[constant] = C * N
    live = ~constant & np.all(np.isfinite(x.reshape(-1, P)), axis=0)
    if not live.any():
        return out
    a = x[:, :, live]
    m = fft.next_fast_len(2 * N)
    centred = a - a.mean(axis=1, keepdims=True)
    f = np.fft.rfft(centred, n=m, axis=1)
    acov = np.fft.irfft(f * np.conjugate(f), n=m, axis=1)[:, :N] / N
    mean_acov = acov.mean(axis=0)  # (N, P')
    mean_var = mean_acov[0] * N / (N - 1.0)
    var_plus = mean_var * (N - 1.0) / N
    if C > 1:
        var_plus = var_plus + np.var(a.mean(axis=1), axis=0, ddof=1)
    rho = 1.0 - (mean_var - mean_acov) / var_plus  # rho[t] for every lag
    Q = rho.shape[1]
    rho_t = np.zeros((N, Q))
    rho_t[0] = 1.0
    rho_t[1] = rho[1]
    even, odd = np.ones(Q), rho[1].copy()
    active = np.ones(Q, dtype=bool)
    max_t = np.full(Q, -1)
    t = 1
    # Geyer's initial positive sequence, every parameter at once: a parameter stops at the
    # first lag pair whose sum is negative; max_t records where (t - 2 at that point).
    while t < N - 3 and active.any():
        go = active & (even + odd > 0.0)
        stop = active & ~go
        max_t[stop] = t - 2
        active = go
        if not active.any():
            break
        even = np.where(active, rho[t + 1], even)
        odd = np.where(active, rho[t + 2], odd)
        keep = active & (even + odd >= 0)
        rho_t[t + 1, keep] = even[keep]
        rho_t[t + 2, keep] = odd[keep]
        t += 2
    max_t[active] = t - 2
    cols = np.arange(Q)
    tail_fix = even > 0
    rho_t[max_t[tail_fix] + 1, cols[tail_fix]] = even[tail_fix]
    # Geyer's initial monotone sequence.
    t = 1
    while t <= max_t.max() - 2:
        m_ = (t <= max_t - 2) & (rho_t[t + 1] + rho_t[t + 2] > rho_t[t - 1] + rho_t[t])
        avg = (rho_t[t - 1] + rho_t[t]) / 2.0
        rho_t[t + 1, m_] = avg[m_]
        rho_t[t + 2, m_] = avg[m_]
        t += 2
    lags = np.arange(N)[:, None]
    tau = -1.0 + 2.0 * np.sum(np.where(lags <= max_t, rho_t, 0.0), axis=0)
    tau += np.where(max_t + 1 < N, rho_t[np.minimum(max_t + 1, N - 1), cols], 0.0)
    total = C * N
    tau = np.maximum(tau, 1.0 / np.log10(total))
    ess = total / tau
    ess[np.isnan(rho_t).any(axis=0)] = np.nan
    out[live] = ess
    return out


def ess_bulk(x: np.ndarray, z_bulk: np.ndarray | None = None) -> np.ndarray:
    """Bulk ESS (rank-normalised split chains) per parameter of a (chain, draw, P) array."""
    z = bulk_z(x) if z_bulk is None else z_bulk
    with np.errstate(invalid="ignore", divide="ignore"):
        return _ess(z)


def ess_tail(x: np.ndarray) -> np.ndarray:
    """Tail ESS (the smaller of the 5% and 95% quantile indicators' ESS) per parameter."""
    x = np.asarray(x, dtype=float)
    flat = x.reshape(-1, x.shape[2])
    q05, q95 = np.quantile(flat, [0.05, 0.95], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = _ess(_split((x <= q05).astype(float)))
        high = _ess(_split((x <= q95).astype(float)))
    return np.minimum(low, high)
