"""The two kinds of broken sampler, shared by every mutant catalogue.

:class:`Mutant` is a broken sweep of the varying-intercept model, :class:`SweepMutant` a broken
sweep of an extended model.

The catalogues live in :mod:`validation.mutants`, :mod:`validation.binomial_mutants`,
:mod:`validation.slopes_mutants` and :mod:`validation.factors_mutants`; this module is the base
they share, so that none of them imports another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gibbs.sampling import sample_sweep

__all__ = ["Mutant", "SweepMutant"]


@dataclass(frozen=True)
class Mutant:
    """A broken variant of the sampler.

    Attributes
    ----------
    name : str
        Short identifier.
    bug : str
        What is wrong, in one sentence.
    sweep : tuple of callables
        The blocks of the broken sweep.
    family : str
        The outcome family the sweep samples (:mod:`gibbs.families`).
    """

    name: str
    bug: str
    sweep: tuple[Callable, ...]
    family: str = "gaussian"

    def sample(self, data, priors=None, **kwargs: Any):
        """Run the broken sampler; same keywords as :func:`gibbs.sample`."""
        kwargs.setdefault("progressbar", False)
        return sample_sweep(
            data, self.sweep, f"mutant:{self.name}", priors, family=self.family, **kwargs
        )


@dataclass(frozen=True)
class SweepMutant:
    """A broken sweep of an extended model: ``schemes[scheme]`` with ``replaces`` swapped out.

    Used by the varying-slopes and several-levels catalogues
    (:mod:`validation.slopes_mutants`, :mod:`validation.factors_mutants`).
    """

    name: str
    schemes: Any
    scheme: str
    replaces: Callable
    block: Callable

    @property
    def sweep(self) -> tuple:
        """The broken sweep."""
        return tuple(self.block if b is self.replaces else b for b in self.schemes[self.scheme])

    @property
    def description(self) -> str:
        """One line on what is broken."""
        return (self.block.__doc__ or "").strip().splitlines()[0]
