"""Tuning constants of the Monte Carlo correction steps, and the harness's stress settings.

Every block that corrects a proposal (the i-SIR step of the fully collapsed scheme, the slice
steps of the scale updates) reads its constants here at run time. The defaults are the tuned
values; :data:`STRESS` holds deliberately poor settings (two proposals from a widened and
shifted t; slice brackets far too narrow or far too wide). Each leaves the sampler *correct*
but makes its correction carry the weight: an i-SIR step without its importance weights, an
accept rule with the wrong ratio or a slice step that shrinks the wrong way changes the stationary
distribution measurably only when the proposal is far from the target, so the calibration
batteries run these settings too (:mod:`validation.designs`).

Use ``with tuned(STRESS["poor-proposals"]): ...``; the setting is a context variable, so it does
not leak into other threads or later runs.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["STRESS", "Tuning", "current", "tuned"]


@dataclass(frozen=True)
class Tuning:
    """Constants of the correction steps.

    Attributes
    ----------
    proposals : int
        Fresh i-SIR proposals per step of the fully collapsed scheme.
    inflation : float
        Scale inflation of the i-SIR t proposal over the Laplace fit.
    shift : float
        Offset of the i-SIR proposal's centre from the mode, in proposal standard deviations
        along both log scales (0: centred).
    slice_width : float
        Initial bracket width of the slice steps on log scales.
    warmup_factor : int
        How many times its usual warm-up a run from an arbitrary start (SBC's fits) needs under
        this setting to forget the start: a poor proposal mixes slowly, not wrongly.
    """

    proposals: int = 8
    inflation: float = 1.2
    shift: float = 0.0
    slice_width: float = 1.0
    warmup_factor: int = 1

    def __post_init__(self) -> None:
        if int(self.proposals) != self.proposals or self.proposals < 1:
            raise ValueError(f"proposals must be an integer >= 1, got {self.proposals}")
        if int(self.warmup_factor) != self.warmup_factor or self.warmup_factor < 1:
            raise ValueError(f"warmup_factor must be an integer >= 1, got {self.warmup_factor}")
        if not self.inflation > 0 or not self.slice_width > 0:
            raise ValueError("inflation and slice_width must be positive")


DEFAULT = Tuning()
# Poor but valid settings, one per kind of correction (see the module docstring).
STRESS: dict[str, Tuning] = {
    "poor-proposals": Tuning(proposals=2, inflation=3.0, shift=1.5),
    # Brackets 50x too narrow move a per-row log rate (the Poisson family) by a fraction of its
    # sd per sweep: SBC of the correct sampler failed its log-likelihood ranks at 200 warm-up
    # sweeps (p < 1e-4, 200 replications) and passed at 2,000.
    "narrow-slices": Tuning(slice_width=0.02, warmup_factor=10),
    "wide-slices": Tuning(slice_width=40.0),
}

_CURRENT: contextvars.ContextVar[Tuning] = contextvars.ContextVar("gibbs_tuning", default=DEFAULT)


def current() -> Tuning:
    """Return the tuning in force."""
    return _CURRENT.get()


@contextmanager
def tuned(tuning: Tuning | str | None) -> Iterator[Tuning]:
    """Run the block under ``tuning`` (a :class:`Tuning`, a :data:`STRESS` name, or None)."""
    if tuning is None or tuning == "default":
        tuning = DEFAULT
    elif isinstance(tuning, str):
        if tuning not in STRESS:
            raise ValueError(f"unknown stress setting {tuning!r}; choose one of {sorted(STRESS)}")
        tuning = STRESS[tuning]
    token = _CURRENT.set(tuning)
    try:
        yield tuning
    finally:
        _CURRENT.reset(token)
