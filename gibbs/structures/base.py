"""Base types of the structures: named blocks, recorders and the implementation record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Block", "Implementation", "Recorder", "as_blocks"]


@dataclass(frozen=True)
class Block:
    """A named step of a scheme: ``update(streams, state, model) -> state``.

    A scheme is a tuple of blocks; a deliberately broken sampler replaces one by its name.
    """

    name: str
    update: Callable = field(compare=False)

    def __call__(self, streams, state, model):
        """Run the block."""
        return self.update(streams, state, model)


def as_blocks(sweep) -> tuple[Block, ...]:
    """Return a sweep as named blocks (plain functions are named after themselves)."""
    return tuple(
        b if isinstance(b, Block) else Block(getattr(b, "__name__", repr(b)), b) for b in sweep
    )


@dataclass
class Recorder:
    """What the driver stores at each kept draw, and how it finishes the storage.

    ``record(state)`` returns arrays shaped (chains, ...); ``float_names`` are stored in float64
    whatever the storage dtype (the log density); ``finalize(store, kept)`` may add arrays
    computed once after the loop.
    """

    record: Callable[[Any], dict[str, np.ndarray]]
    finalize: Callable[[dict[str, np.ndarray], int], dict[str, np.ndarray]] = lambda store, kept: (
        store
    )
    float_names: tuple[str, ...] = ("lp",)


@dataclass(frozen=True)
class Implementation:
    """How one structure samples one family: the kernel model and everything around it.

    Attributes
    ----------
    name : str
        The kernel's name (``"intercepts"``, ``"slopes"``, ``"factors"``, ``"general"``).
    build : callable
        ``build(data, slopes, factors, priors, family) -> model`` (validates everything).
    schemes : callable
        ``schemes(family) -> {name: sweep}``.
    default_scheme : callable
        ``default_scheme(family) -> name``.
    initial_state : callable
        ``initial_state(model, streams, init) -> state``.
    recorder : callable
        ``recorder(model, keep_alpha, dtype) -> Recorder``.
    to_idata : callable
        ``to_idata(model, store, keep_alpha, attrs, log_likelihood=, predictive_rngs=)``.
    attrs : callable
        ``attrs(model) -> dict`` of structure-specific attributes.
    offsets : bool
        Whether the kernel takes an offset in the linear predictor (data with one go to a kernel
        that does).
    """

    name: str
    build: Callable
    schemes: Callable
    default_scheme: Callable
    initial_state: Callable
    recorder: Callable
    to_idata: Callable
    attrs: Callable = lambda model: {}
    offsets: bool = False


def state_recorder(
    params: tuple[str, ...],
    keep_alpha: np.ndarray,
    log_joint: Callable,
    model: Any,
    *,
    lp_after: Callable | None = None,
) -> Recorder:
    """Record the named state fields (alpha only for the kept groups) and the log density.

    ``lp_after(store, kept) -> lp`` computes the log density once after the loop, vectorised
    over draws, instead of at every kept draw.
    """

    def record(state) -> dict[str, np.ndarray]:
        out = {"alpha": state.alpha[:, keep_alpha]}
        for name in params:
            if name != "alpha" and name in state._fields:
                out[name] = getattr(state, name)
        if lp_after is None:
            out["lp"] = log_joint(state, model)
        return out

    def finalize(store: dict[str, np.ndarray], kept: int) -> dict[str, np.ndarray]:
        if lp_after is not None:
            store["lp"] = lp_after(store, kept) if kept else np.empty((0, 0))
        return store

    return Recorder(record=record, finalize=finalize)
