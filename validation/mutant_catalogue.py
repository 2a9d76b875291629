"""Every model's catalogue of broken samplers, from one registry by kernel.

``mutants_for(spec)`` returns, for any :class:`gibbs.spec.ModelSpec`, the mutants that apply to
it as ``{name: (description, sweep)}``; ``compare --mutants`` runs each through the same driver
as the correct sampler and compares it with the one reference fit.
"""

from __future__ import annotations

from collections.abc import Callable

from validation.count_mutants import COUNT_MUTANTS
from validation.factors_mutants import FACTORS_MUTANTS
from validation.general_mutants import GENERAL_MUTANTS
from validation.mutants import mutants_for as intercept_mutants
from validation.slopes_mutants import SLOPES_MUTANTS

__all__ = ["CATALOGUES", "mutants_for"]


def _intercepts(spec) -> dict:
    return {n: (mu.bug, mu.sweep) for n, mu in intercept_mutants(spec.family.name).items()}


def _sweeps(catalogue: dict) -> Callable:
    return lambda spec: {n: (mu.description, mu.sweep) for n, mu in catalogue.items()}


def _general(spec) -> dict:
    return {
        n: (mu.description, mu.sweep(spec))
        for n, mu in {**GENERAL_MUTANTS, **COUNT_MUTANTS}.items()
        if mu.applies(spec)
    }


# By kernel (gibbs.structures.IMPLEMENTATIONS).
CATALOGUES: dict[str, Callable] = {
    "intercepts": _intercepts,
    "slopes": _sweeps(SLOPES_MUTANTS),
    "factors": _sweeps(FACTORS_MUTANTS),
    "general": _general,
}


def mutants_for(spec) -> dict[str, tuple[str, tuple]]:
    """Return ``{name: (what is broken, sweep)}`` of the mutants that apply to ``spec``."""
    return CATALOGUES[spec.implementation.name](spec)
