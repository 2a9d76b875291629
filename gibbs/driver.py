"""The driver: chains, seeds, warm-up, thinning and storage, for any model and scheme.

Kernels never see a chain index; the driver owns the chains (a leading array axis), their random
streams and the storage. Output is shaped ``(chain, draw, *shape)``. The driver imports no model
module: what to store and how to finish comes from the structure's :class:`Recorder`.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.structures.base import Recorder

__all__ = ["Progress", "alpha_indices", "check_lengths", "run"]


class Progress:
    """A one-line progress report on stderr, refreshed at most four times a second."""

    def __init__(self, total: int, label: str, enabled: bool) -> None:
        self.total, self.label, self.enabled = total, label, enabled
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, done: int, force: bool = False) -> None:
        """Report ``done`` iterations (at most four times a second unless ``force``)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last < 0.25:
            return
        self.last = now
        elapsed = now - self.start
        left = elapsed / done * (self.total - done) if done else float("nan")
        sys.stderr.write(
            f"\r{self.label}: {done}/{self.total} [{100 * done / self.total:3.0f}%] "
            f"{elapsed:.1f}s elapsed, {left:.1f}s left "
        )
        if force:
            sys.stderr.write("\n")
        sys.stderr.flush()


def check_lengths(draws: Any, tune: Any, chains: Any, thin: Any) -> None:
    """Raise ``ValueError`` unless draws, chains, thin >= 1 and tune >= 0 are integers."""
    from gibbs.arguments import check_count

    for name, value, low in [
        ("draws", draws, 1),
        ("tune", tune, 0),
        ("chains", chains, 1),
        ("thin", thin, 1),
    ]:
        check_count(name, value, low)


def run(
    model: Any,
    sweep: Sequence,
    state: Any,
    streams: Any,
    *,
    draws: int,
    tune: int,
    thin: int,
    recorder: Recorder,
    dtype: Any = np.float64,
    progress: Progress | None = None,
    refresh: Any = None,
    stats: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], int, dict[str, float]]:
    """Run the sweeps and collect thinned draws; returns (storage, draws kept, timings).

    The one sampling loop: ``gibbs.sample``, and batched over replications the Geweke and SBC
    batteries. ``refresh(state, model) -> model``, called after every sweep, gives the next sweep
    another model (Geweke's successive-conditional simulator draws new outcomes there). A
    ``KeyboardInterrupt`` stops the loop and keeps every draw finished so far. ``stats``, when
    given, receives what the blocks report in ``streams.stats`` at each kept draw, shaped
    (chains, draws).
    """
    progress = progress if progress is not None else Progress(1, "", False)
    C = streams.chains
    store: dict[str, np.ndarray] = {}
    total = tune + draws * thin
    kept = 0
    timings = {"tuning_time": 0.0, "sampling_time": 0.0}
    t0 = time.perf_counter()
    try:
        for it in range(total):
            for block in sweep:
                state = block(streams, state, model)
            if refresh is not None:
                model = refresh(state, model)
            if it == tune - 1:
                timings["tuning_time"] = time.perf_counter() - t0
            if it >= tune and (it - tune) % thin == thin - 1:
                values = recorder.record(state)
                if not store:
                    store = {
                        k: np.empty(
                            (C, draws, *v.shape[1:]),
                            float if k in recorder.float_names else dtype,
                        )
                        for k, v in values.items()
                    }
                for k, v in values.items():
                    store[k][:, kept] = v
                if stats is not None:
                    for k, v in streams.stats.items():
                        if k not in stats:
                            stats[k] = np.zeros((C, draws), dtype=np.asarray(v).dtype)
                        stats[k][:, kept] = v
                kept += 1
            progress.update(it + 1)
    except KeyboardInterrupt:
        warnings.warn(
            f"sampling interrupted: returning the {kept} draws per chain finished so far",
            RuntimeWarning,
            stacklevel=3,
        )
    progress.update(min(total, tune + kept * thin), force=True)
    store = recorder.finalize({k: v[:, :kept] for k, v in store.items()}, kept)
    if stats is not None:
        stats.update({k: v[:, :kept] for k, v in stats.items()})
    timings["sampling_time"] = time.perf_counter() - t0 - timings["tuning_time"]
    return store, kept, timings


def alpha_indices(data: HierarchicalData, store_alpha: bool | Sequence[Any]) -> np.ndarray:
    """Return the indices of the groups whose alpha_j are stored (``store_alpha`` of sample)."""
    if store_alpha is True:
        return np.arange(data.n_groups)
    if store_alpha is False:
        return np.arange(0)
    names = list(data.group_names)
    idx = []
    for g in store_alpha:
        if g in names:
            idx.append(names.index(g))
        elif isinstance(g, int | np.integer) and 0 <= g < data.n_groups:
            idx.append(int(g))
        else:
            raise ValueError(f"store_alpha: {g!r} is neither a group label nor a group index")
    return np.asarray(idx, dtype=np.intp)
