"""Deliberately broken drivers and outputs: the bugs no posterior test sees.

Each mutant is a context manager under which :func:`gibbs.sample` (and everything built on it)
runs with one realistic slip in the driver loop, the chains' streams, the initial values or the
output's labels. The sweep blocks stay correct, so Geweke's test and SBC, which drive the blocks,
pass; the driver conformance suite (:mod:`validation.conformance`) must fail on every one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["DRIVER_MUTANTS", "driver_mutant"]


def _patched_run(keep: Callable[[int, int, int], bool]):
    """Return a copy of the driver loop with another rule for which iterations are kept."""
    from gibbs import driver

    original = driver.run

    def run(model, sweep, state, streams, *, draws, tune, thin, recorder, **kw):
        kept_iterations = []
        total = tune + draws * thin

        class Picky:
            float_names = recorder.float_names
            finalize = staticmethod(recorder.finalize)

            @staticmethod
            def record(st):
                return recorder.record(st)

        # Run every iteration as kept, then select: simple and faithful to the slip.
        store, _, timings = original(
            model,
            sweep,
            state,
            streams,
            draws=total,
            tune=0,
            thin=1,
            recorder=dataclasses.replace(recorder, finalize=lambda s, k: s),
            **kw,
        )
        kept_iterations = [it for it in range(total) if keep(it, tune, thin)][:draws]
        store = {k: v[:, kept_iterations] for k, v in store.items()}
        stats = kw.get("stats")
        if stats is not None:  # the blocks' statistics follow the same selection
            stats.update({k: v[:, kept_iterations] for k, v in stats.items()})
        store = recorder.finalize(store, len(kept_iterations))
        return store, len(kept_iterations), timings

    return run


@contextmanager
def _patch(module, name: str, value) -> Iterator[None]:
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


@contextmanager
def _keep(rule) -> Iterator[None]:
    from gibbs import sampling

    with _patch(sampling, "run", _patched_run(rule)):
        yield


@contextmanager
def _seeds(make) -> Iterator[None]:
    from gibbs import sampling

    original = sampling.chain_seed_sequences

    def broken(seed, chains):
        master, children = original(seed, chains)
        return master, make(master, children, seed, chains)

    with _patch(sampling, "chain_seed_sequences", broken):
        yield


@contextmanager
def _implementation(change) -> Iterator[None]:
    from gibbs import structures

    table = structures.IMPLEMENTATIONS
    old = dict(table)
    for key, impl in old.items():
        table[key] = change(impl)
    try:
        yield
    finally:
        table.clear()
        table.update(old)


def _reversed_labels(impl):
    def to_idata(model, store, keep_alpha, attrs, **kw):
        idata = impl.to_idata(model, store, keep_alpha, attrs, **kw)
        dim = model.data.group_dim
        post = idata.posterior
        if dim in post.coords:
            idata.posterior = post.assign_coords({dim: post[dim].values[::-1]})
        return idata

    return dataclasses.replace(impl, to_idata=to_idata)


def _init_ignored(impl):
    return dataclasses.replace(
        impl, initial_state=lambda model, streams, init=None: impl.initial_state(model, streams)
    )


def _seed_plus_chain(master, children, seed, chains):
    base = seed if isinstance(seed, int) else 0
    return [np.random.SeedSequence(base + k) for k in range(chains)]


DRIVER_MUTANTS: dict[str, tuple[str, Callable]] = {
    "warmup_kept": (
        "the driver keeps the first draws from the start instead of after the warm-up",
        lambda: _keep(lambda it, tune, thin: it % thin == thin - 1),
    ),
    "thin_from_first": (
        "thinning keeps the first sweep after warm-up, then every thin-th (one sweep early)",
        lambda: _keep(lambda it, tune, thin: it >= tune and (it - tune) % thin == 0),
    ),
    "thin_ignored": (
        "the driver keeps consecutive sweeps after warm-up whatever thin is",
        lambda: _keep(lambda it, tune, thin: it >= tune),
    ),
    "chains_share_stream": (
        "every chain gets chain 0's seed sequence: the chains are copies",
        lambda: _seeds(lambda m, children, s, c: [children[0]] * c),
    ),
    "seed_plus_chain": (
        "chain k is seeded with seed + k: neighbouring seeds share streams",
        lambda: _seeds(_seed_plus_chain),
    ),
    "labels_reversed": (
        "the output's group coordinates are in reverse order of the draws",
        lambda: _implementation(_reversed_labels),
    ),
    "init_ignored": (
        "initial values given by init are dropped",
        lambda: _implementation(_init_ignored),
    ),
}


@contextmanager
def driver_mutant(name: str | None) -> Iterator[None]:
    """Run the block with the driver mutant ``name`` in force (None: the correct driver)."""
    if name is None:
        yield
        return
    if name not in DRIVER_MUTANTS:
        raise ValueError(f"unknown driver mutant {name!r}; choose one of {sorted(DRIVER_MUTANTS)}")
    with DRIVER_MUTANTS[name][1]():
        yield
