"""Exact draws from the generalized inverse Gaussian distribution, all chains at once.

The conditional of a variance under a half-normal prior is GIG (see :mod:`gibbs.priors`). SciPy's
``geninvgauss.rvs`` draws it exactly but costs about 0.1 ms per call, and a sampler calls it once
per chain and scale in every sweep (on police stops it was 40% of the Poisson sweep). This module
runs the same three rejection algorithms of Hoermann & Leydold (2014), "Generating generalized
inverse Gaussian random variates", Statistics and Computing 24, as SciPy 1.17 chooses them, on
every chain at once:

- ratio of uniforms with the mode shifted to 0 where p >= 1 or omega > 1;
- ratio of uniforms without the shift where omega >= min(1/2, 2 sqrt(1 - p) / 3);
- otherwise, rejection from their three-piece hat (the density is not T-concave there).

Each chain draws its candidate pairs from its own generator, :data:`BATCH` pairs at a time, and
keeps the first accepted one, so its draw does not depend on the other chains.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["BATCH", "gig_standard"]

# Candidate pairs per chain and round: every method accepts at least about 1 in 2.7 (their hat
# constants), so 8 pairs leave a chain without a draw with probability below 0.03.
BATCH = 8

_SHIFT, _NOSHIFT, _HAT = 0, 1, 2
# Rounds after which a chain without an accepted candidate is an error, not bad luck.
_MAX_ROUNDS = 1000


def _log_quasi(x: np.ndarray, p: float, omega: np.ndarray) -> np.ndarray:
    """Log of x^(p-1) exp(-omega (x + 1/x) / 2); NaN for x <= 0, which every test rejects."""
    return (p - 1.0) * np.log(x) - omega * (x + 1.0 / x) / 2.0


def _mode(p: float, omega: np.ndarray) -> np.ndarray:
    # Two forms of one root, each free of cancellation on its side of p = 1.
    if p < 1:
        return omega / (np.sqrt((p - 1.0) ** 2 + omega**2) + 1.0 - p)
    return (np.sqrt((1.0 - p) ** 2 + omega**2) - (1.0 - p)) / omega


def _rou_setup(p: float, omega: np.ndarray, shift: bool) -> tuple[np.ndarray, ...]:
    """Bounding rectangle (umax, vmin, vmax), centre and log level of the ratio of uniforms."""
    m = _mode(p, omega)
    lm = _log_quasi(m, p, omega)
    if shift:
        # The v-range comes from the two real roots of x^3 + a2 x^2 + a1 x + m (Cardano), for
        # the density rescaled to 1 at its mode m, which is moved to 0.
        a2 = -2.0 * (p + 1.0) / omega - m
        a1 = 2.0 * m * (p - 1.0) / omega - 1.0
        p1 = a1 - a2**2 / 3.0
        q1 = 2.0 * a2**3 / 27.0 - a2 * a1 / 3.0 + m
        phi = np.arccos(-q1 * np.sqrt(-27.0 / p1**3) / 2.0)
        s1 = -np.sqrt(-4.0 * p1 / 3.0)
        root1 = s1 * np.cos(phi / 3.0 + np.pi / 3.0) - a2 / 3.0
        root2 = -s1 * np.cos(phi / 3.0) - a2 / 3.0
        vmin = (root1 - m) * np.exp(0.5 * (_log_quasi(root1, p, omega) - lm))
        vmax = (root2 - m) * np.exp(0.5 * (_log_quasi(root2, p, omega) - lm))
        return np.ones_like(omega), vmin, vmax, m, lm
    xplus = ((1.0 + p) + np.sqrt((1.0 + p) ** 2 + omega**2)) / omega
    vmax = xplus * np.exp(0.5 * _log_quasi(xplus, p, omega))
    zero = np.zeros_like(omega)
    return np.exp(0.5 * lm), zero, vmax, zero, zero


def _rou(p, omega, shift):
    """Candidate function of the ratio-of-uniforms method (with or without the mode shift)."""
    umax, vmin, vmax, centre, level = (a[:, None] for a in _rou_setup(p, omega, shift))
    if not np.all(vmin < vmax):
        raise ValueError(f"GIG sampler: no bounding rectangle for p={p}, omega={omega}")
    om = omega[:, None]

    def candidates(U: np.ndarray, rows: np.ndarray):
        u = umax[rows] * U[..., 0]
        x = (vmin[rows] + (vmax[rows] - vmin[rows]) * U[..., 1]) / u + centre[rows]
        # u = 0 (a uniform draw of exactly 0) gives an infinite x, never a draw.
        ok = (2.0 * np.log(u) <= _log_quasi(x, p, om[rows]) - level[rows]) & np.isfinite(x)
        return x, ok

    return candidates


def _hat(p, omega):
    """Candidate function of the rejection from the three-piece hat (p < 1, small omega)."""
    # Constant on (0, x0), x^(p-1) e^(-omega) on (x0, 2 / omega), x^(p-1) e^(-omega x / 2) beyond.
    x0 = omega / (1.0 - p)
    xs = np.maximum(x0, 2.0 / omega)
    k1 = np.exp(_log_quasi(_mode(p, omega), p, omega))
    A1 = k1 * x0
    middle = x0 < 2.0 / omega
    k2 = np.where(middle, np.exp(-omega), 0.0)
    if p > 0:
        A2 = k2 * ((2.0 / omega) ** p - x0**p) / p
    else:
        A2 = k2 * np.log(2.0 / omega**2)
    A2 = np.where(middle, A2, 0.0)
    k3 = xs ** (p - 1.0)
    A = A1 + A2 + 2.0 * k3 * np.exp(-xs * omega / 2.0) / omega
    om, x0, xs, k1, k2, k3, A1, A2, A = (a[:, None] for a in (omega, x0, xs, k1, k2, k3, A1, A2, A))

    def candidates(U: np.ndarray, rows: np.ndarray):
        o, a1, a2, c2, c3 = om[rows], A1[rows], A2[rows], k2[rows], k3[rows]
        v = A[rows] * U[..., 1]  # picks the piece (by area) and the point within it
        first = v <= a1
        second = ~first & (v <= a1 + a2)
        if p > 0:
            x_mid = (x0[rows] ** p + (v - a1) * p / c2) ** (1.0 / p)
        else:
            x_mid = o * np.exp((v - a1) * np.exp(o))
        x_tail = -2.0 / o * np.log(np.exp(-xs[rows] * o / 2.0) - o * (v - a1 - a2) / (2.0 * c3))
        x = np.where(first, x0[rows] * v / a1, np.where(second, x_mid, x_tail))
        h = np.where(
            first,
            k1[rows],
            np.where(second, c2 * x_mid ** (p - 1.0), c3 * np.exp(-x_tail * o / 2.0)),
        )
        return x, np.log(U[..., 0] * h) <= _log_quasi(x, p, o)

    return candidates


def _draw(candidates, generators: list, out: np.ndarray, index: np.ndarray) -> None:
    """Fill out[index] with each chain's first accepted candidate, BATCH pairs per round."""
    todo = np.arange(index.size)
    for _ in range(_MAX_ROUNDS):
        U = np.stack([generators[index[k]].random((BATCH, 2)) for k in todo])
        x, ok = candidates(U, todo)
        pick = np.argmax(ok, axis=1)
        rows = np.arange(todo.size)
        hit = ok[rows, pick]
        out[index[todo[hit]]] = x[rows, pick][hit]
        todo = todo[~hit]
        if todo.size == 0:
            return
    raise RuntimeError(f"GIG sampler: no candidate accepted in {_MAX_ROUNDS} rounds")


def gig_standard(
    p: float, omega: np.ndarray, generators: Sequence[np.random.Generator]
) -> np.ndarray:
    """Draw X with density proportional to x^(p-1) exp(-omega (x + 1/x) / 2), one per chain.

    Parameters
    ----------
    p : float
        Index (any real number).
    omega : ndarray, shape (chains,)
        Concentration, positive and finite.
    generators : sequence of numpy.random.Generator
        One per chain; chain k uses only ``generators[k]``.

    Returns
    -------
    ndarray, shape (chains,)
    """
    omega = np.asarray(omega, dtype=float)
    if not np.all((omega > 0) & np.isfinite(omega)):
        raise ValueError(f"GIG sampler: omega must be positive and finite, got {omega}")
    # If X ~ GIG(p, omega) then 1 / X ~ GIG(-p, omega): draw with a non-negative index.
    q = abs(float(p))
    if q >= 1:
        method = np.full(omega.shape, _SHIFT)
    else:
        bound = min(0.5, 2.0 * np.sqrt(1.0 - q) / 3.0)
        method = np.where(omega > 1, _SHIFT, np.where(omega >= bound, _NOSHIFT, _HAT))
    out = np.empty(omega.shape)
    gens = list(generators)
    with np.errstate(all="ignore"):
        for kind in np.unique(method):
            index = np.flatnonzero(method == kind)
            sub = omega[index]
            candidates = _hat(q, sub) if kind == _HAT else _rou(q, sub, kind == _SHIFT)
            _draw(candidates, gens, out, index)
    return 1.0 / out if p < 0 else out
