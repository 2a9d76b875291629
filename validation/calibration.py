"""Geweke's test and SBC for any :class:`gibbs.spec.ModelSpec`, from one registry by kernel.

``geweke(spec, sweep, ...)`` and ``sbc_batch(spec, sweep, ...)`` run the kernel's own battery
(:mod:`validation.geweke`, :mod:`validation.slopes_calibration`,
:mod:`validation.factors_calibration`, :mod:`validation.general_calibration`); ``sweep_under_test``
picks a scheme or a mutant of the spec by name. The resumable SBC with the NUTS engine and Dask
(:class:`validation.sbc.SBC`) is the varying-intercept kernel's; the capability table
(:mod:`validation.capabilities`) says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from validation.factors_calibration import geweke_factors, sbc_factors
from validation.general_calibration import GeneralSBCProblem, geweke_general, sbc_general
from validation.geweke import geweke_test
from validation.mutant_catalogue import mutants_for
from validation.slopes_calibration import geweke_slopes, sbc_slopes

__all__ = [
    "CALIBRATIONS",
    "Calibration",
    "geweke",
    "resumable_sbc",
    "sbc_batch",
    "sweep_under_test",
]


@dataclass(frozen=True)
class Calibration:
    """A kernel's Geweke test and batched SBC, each ``f(spec, sweep, **settings)``."""

    geweke: Callable
    sbc_batch: Callable | None
    # The problem of the resumable battery (validation.sbc.SBC); None: the varying-intercept
    # kernel's own (SBC(data, priors, engine)), or not built (the capability table says).
    sbc_problem: Callable | None = None


CALIBRATIONS: dict[str, Calibration] = {
    "intercepts": Calibration(
        geweke=lambda spec, sweep, **kw: geweke_test(
            spec.data, spec.priors, sweep, family=spec.family.name, **kw
        ),
        sbc_batch=None,  # validation.sbc.SBC: resumable, any engine, local or Dask
    ),
    "slopes": Calibration(
        geweke=lambda spec, sweep, **kw: geweke_slopes(
            spec.data, spec.slopes, spec.priors, sweep, **kw
        ),
        sbc_batch=lambda spec, sweep, **kw: sbc_slopes(
            spec.data, spec.slopes, spec.priors, sweep, **kw
        ),
    ),
    "factors": Calibration(
        geweke=lambda spec, sweep, **kw: geweke_factors(
            spec.data, spec.factor_labels, spec.priors, sweep, **kw
        ),
        sbc_batch=lambda spec, sweep, **kw: sbc_factors(
            spec.data, spec.factor_labels, spec.priors, sweep, **kw
        ),
    ),
    "general": Calibration(
        geweke=geweke_general, sbc_batch=sbc_general, sbc_problem=GeneralSBCProblem.from_spec
    ),
}


def geweke(spec, sweep, **settings):
    """Run Geweke's joint-distribution test of ``sweep`` on ``spec`` (its kernel's battery)."""
    return CALIBRATIONS[spec.implementation.name].geweke(spec, sweep, **settings)


def sbc_batch(spec, sweep, **settings):
    """Run SBC of ``sweep`` on ``spec``, every replication's chains in one batch."""
    run = CALIBRATIONS[spec.implementation.name].sbc_batch
    if run is None:
        raise ValueError("varying intercepts: use validation.sbc.SBC (resumable, any engine)")
    return run(spec, sweep, **settings)


def resumable_sbc(spec, engine, **settings):
    """Return the resumable SBC battery of ``spec`` (:class:`validation.sbc.SBC`)."""
    from validation.sbc import SBC

    make = CALIBRATIONS[spec.implementation.name].sbc_problem
    problem = make(spec) if make is not None else None
    return SBC(spec.data, spec.priors, engine, problem=problem, **settings)


def sweep_under_test(spec, scheme: str | None = None, mutant: str | None = None) -> tuple:
    """Return the sweep of ``spec`` named by a mutant or a scheme (default: the spec's default)."""
    if mutant:
        catalogue = mutants_for(spec)
        if mutant not in catalogue:
            raise ValueError(
                f"unknown mutant {mutant!r} for {spec.structure} x {spec.family.name}; choose one "
                f"of {sorted(catalogue)}"
            )
        return catalogue[mutant][1]
    schemes = spec.schemes()
    scheme = scheme or spec.default_scheme
    if scheme not in schemes:
        raise ValueError(
            f"scheme {scheme!r} does not exist for the {spec.family.name} family with "
            f"{spec.structure}; choose one of {sorted(schemes)}"
        )
    return schemes[scheme]
