"""Whether a broken sweep is, on one data set, exactly the correct sampler.

Some slips vanish on particular data: alpha's precision with the mean group size n / J is exact
on balanced groups, a Polya-Gamma shape of 1 is exact on 0/1 rows, a prior's scale taken for its
variance is exact at unit scale or under a flat prior. On such data the broken sweep samples the
right posterior, so no posterior battery can (or should) flag it there; the design library of
:mod:`validation.designs` is what exposes it. :func:`exact_here` finds such cases by running the
broken sweep and the scheme it was made from on the same seed: the same draws (to rounding) after
a few sweeps mean the slip has no effect on this data. It is decided by arithmetic, not by a
statistical test, so it cannot excuse a bug that changes the posterior even slightly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["base_scheme", "exact_here", "exact_mutants"]

# Enough sweeps for a changed conditional to move some draw; far fewer than any battery runs.
_DRAWS, _TUNE, _CHAINS = 20, 5, 2
# Mathematically equal arithmetic may round differently; any real slip moves draws far more.
_RTOL = 1e-9


def base_scheme(spec, sweep: Sequence) -> str | None:
    """Return the scheme of ``spec`` that ``sweep`` was made from, or None if none shares a block.

    The base is the scheme of the same length with the most blocks equal, position by position.
    """
    best, shared = None, 0
    for name, blocks in spec.schemes().items():
        if len(blocks) != len(sweep):
            continue
        same = sum(a == b for a, b in zip(blocks, sweep, strict=True))
        if same > shared:
            best, shared = name, same
    return best


def _draws(spec, sweep, seed: int) -> dict[str, np.ndarray]:
    from gibbs.sampling import sample_spec

    with np.errstate(all="ignore"):
        idata = sample_spec(
            spec,
            sweep,
            "inertness",
            draws=_DRAWS,
            tune=_TUNE,
            chains=_CHAINS,
            seed=seed,
            progressbar=False,
            log_likelihood=False,
            compute_convergence_checks=False,
        )
    return {k: v.values for k, v in idata.posterior.data_vars.items()}


def exact_here(spec, sweep: Sequence, seed: int = 0, _bases: dict | None = None) -> bool:
    """Whether ``sweep`` draws exactly what its base scheme draws on ``spec``'s data and priors.

    False whenever that cannot be shown: no base scheme, a crash, other variables, or any draw
    that differs beyond rounding. ``_bases`` caches the base schemes' draws across calls on one
    spec and seed (:func:`exact_mutants`).
    """
    base = base_scheme(spec, sweep)
    if base is None:
        return False
    try:
        broken = _draws(spec, sweep, seed)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        return False
    bases = {} if _bases is None else _bases
    if base not in bases:
        bases[base] = _draws(spec, spec.schemes()[base], seed)
    right = bases[base]
    if broken.keys() != right.keys():
        return False
    return all(
        broken[k].shape == v.shape and np.allclose(broken[k], v, rtol=_RTOL, atol=0.0)
        for k, v in right.items()
    )


def exact_mutants(spec, sweeps: dict[str, Sequence], seed: int = 0) -> set[str]:
    """Names of the ``sweeps`` that are exact on ``spec`` (each base scheme run once)."""
    bases: dict = {}
    return {name for name, sweep in sweeps.items() if exact_here(spec, sweep, seed, bases)}
