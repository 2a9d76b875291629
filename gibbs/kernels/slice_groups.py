"""One slice-sampling step for each of many conditionally independent coordinates.

Given the other parameters, the J varying intercepts of a binomial model are independent, so a
univariate slice step (Neal 2003, section 4) on each of them at once is a Gibbs update of all of
them. This is :func:`gibbs.kernels.scales.slice_step_batched` with a (chains, J) array of points
instead of (chains,): the log density is evaluated for every coordinate of every chain in one
call, and the uniforms come from each chain's own stream, so a chain's draws never depend on the
other chains.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gibbs.streams import ChainStreams

__all__ = ["slice_step_grouped"]

_MAX_SHRINK = 200


def slice_step_grouped(
    streams: ChainStreams,
    logf: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    width: np.ndarray,
    max_steps: int = 8,
    budget: int = 16,
) -> np.ndarray:
    """One slice step for every coordinate of ``x0`` (chains, J), each under its own density.

    Parameters
    ----------
    streams : ChainStreams
        The chains' random streams; each chain consumes exactly ``J * budget`` uniforms.
    logf : callable
        Maps candidates (chains, k, J) to their log densities (chains, k, J); coordinate j's
        density may depend on anything but the other coordinates' candidates.
    x0 : ndarray, shape (chains, J)
        Current points.
    width : ndarray, broadcastable to (chains, J)
        Width of one step of each interval (a function of the other parameters only).
    max_steps : int
        Largest number of widths an interval may span; split at random between its two sides
        (Neal's figure 3, which keeps the update reversible).
    budget : int
        Uniforms per coordinate; a coordinate that needs more shrinkage proposals takes them from
        its chain's unbuffered generator.

    Returns
    -------
    ndarray, shape (chains, J)
    """
    C, J = x0.shape
    u = streams.uniform(J * budget).reshape(C, J, budget)
    width = np.broadcast_to(np.asarray(width, dtype=float), x0.shape)
    level = logf(x0[:, None])[:, 0] + np.log1p(-u[..., 0])
    ends = np.stack([x0 - width * u[..., 1], x0 - width * u[..., 1] + width], axis=1)
    steps = np.stack([np.floor(max_steps * u[..., 2]), np.zeros(x0.shape)], axis=1)
    steps[:, 1] = (max_steps - 1) - steps[:, 0]
    direction = np.stack([-width, width], axis=1)  # (C, 2, J)
    grow = steps > 0
    while grow.any():
        grow &= logf(ends) > level[:, None]
        ends += grow * direction
        steps -= grow
        grow &= steps > 0
    left, right = ends[:, 0], ends[:, 1]
    x = x0.copy()
    done = np.zeros(x0.shape, dtype=bool)
    for k in range(3, budget):
        proposal = left + (right - left) * u[..., k]
        accept = ~done & (logf(proposal[:, None])[:, 0] > level)
        x[accept] = proposal[accept]
        done |= accept
        if done.all():
            return x
        below = proposal < x0
        left = np.where(below & ~done, proposal, left)
        right = np.where(~below & ~done, proposal, right)
    # Rare: keep shrinking, each coordinate with its chain's own unbuffered generator (one
    # uniform per unfinished coordinate and round, in coordinate order), all coordinates per
    # evaluation. The interval shrinks towards x0, which is inside the slice; a non-finite level
    # (a broken sampler upstream) stays at x0 rather than looping for ever.
    todo = ~done & np.isfinite(level)
    for _ in range(_MAX_SHRINK):
        if not todo.any():
            break
        rows, cols = np.nonzero(todo)
        u_slow = np.array([streams.slow[c].random() for c in rows])
        proposal = x0.copy()
        proposal[rows, cols] = left[rows, cols] + (right - left)[rows, cols] * u_slow
        accept = todo & (logf(proposal[:, None])[:, 0] > level)
        x[accept] = proposal[accept]
        todo &= ~accept
        below = proposal < x0
        left = np.where(todo & below, proposal, left)
        right = np.where(todo & ~below, proposal, right)
    return x
