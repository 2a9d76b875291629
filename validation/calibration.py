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
from typing import Any

import numpy as np

from validation.factors_calibration import factors_sbc_parts, geweke_factors, sbc_factors
from validation.general_calibration import general_sbc_parts, geweke_general, sbc_general
from validation.geweke import geweke_test
from validation.mutant_catalogue import mutants_for
from validation.sbc import BatchParts, fit_public
from validation.slopes_calibration import geweke_slopes, sbc_slopes, slopes_sbc_parts

__all__ = [
    "CALIBRATIONS",
    "Calibration",
    "SpecSBCProblem",
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
    # The batch callables of the resumable battery's problem (validation.sbc.SBC); None: the
    # varying-intercept kernel's own battery (SBC(data, priors, engine)).
    sbc_parts: Callable | None = None


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
        sbc_parts=lambda spec: slopes_sbc_parts(spec.data, spec.slopes, spec.priors),
    ),
    "factors": Calibration(
        geweke=lambda spec, sweep, **kw: geweke_factors(
            spec.data, spec.factor_labels, spec.priors, sweep, **kw
        ),
        sbc_batch=lambda spec, sweep, **kw: sbc_factors(
            spec.data, spec.factor_labels, spec.priors, sweep, **kw
        ),
        sbc_parts=lambda spec: factors_sbc_parts(spec.data, spec.factor_labels, spec.priors),
    ),
    "general": Calibration(
        geweke=geweke_general, sbc_batch=sbc_general, sbc_parts=general_sbc_parts
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


@dataclass(frozen=True)
class SpecSBCProblem:
    """The SBC problem of any kernel with batch callables, for :class:`validation.sbc.SBC`.

    Holds only picklable parts of the specification (rebuilt in each worker process): the data,
    the family's name, the varying slopes, the factors' labels and the priors.
    """

    data: Any
    family: str
    slopes: tuple
    factor_labels: dict
    priors: Any

    @property
    def spec(self):
        """The rebuilt specification."""
        from gibbs.spec import specify

        return specify(
            self.data,
            family=self.family,
            priors=self.priors,
            slopes=list(self.slopes) or None,
            factors=self.factor_labels or None,
        )

    @property
    def parts(self) -> BatchParts:
        """The kernel's batch callables (:data:`CALIBRATIONS`), for the rebuilt specification."""
        spec = self.spec
        return CALIBRATIONS[spec.implementation.name].sbc_parts(spec)

    @property
    def names(self) -> list[str]:
        """The ranked quantities, ``loglik`` last."""
        return list(self.parts.names)

    def draw(self, rng: np.random.Generator):
        """One parameter set from the priors."""
        return self.parts.draw(rng, 1)

    def simulate(self, theta, rng: np.random.Generator) -> np.ndarray:
        """Outcomes given ``theta``, shape (n,)."""
        return self.parts.simulate(theta, rng)[0]

    def truth(self, theta, y: np.ndarray) -> np.ndarray:
        """Return the ranked values of ``theta`` and log p(y | theta)."""
        parts = self.parts
        return np.append(parts.flatten(theta)[0], parts.loglik(theta, y[None])[0])

    def fit_gibbs(self, Y, seeds, sweep, chains: int, draws: int, tune: int) -> np.ndarray:
        """Fit every replication's chains in one batch: (R, chains, draws, quantities)."""
        return fit_public(self.spec, self.parts, Y, seeds, sweep, chains, draws, tune)

    def fit_nuts(self, y, seed: int, sampler: str, chains: int, draws: int, tune: int):
        """Fit the twin to ``y`` with NUTS: (chains, draws, quantities)."""
        from gibbs.spec import specify
        from reference_models.reference import fit_spec

        spec = specify(
            self.data.replace(y=y),
            family=self.family,
            priors=self.priors,
            slopes=list(self.slopes) or None,
            factors=self.factor_labels or None,
        )
        idata = fit_spec(
            spec,
            sampler=sampler,
            chains=chains,
            draws=draws,
            tune=tune,
            seed=seed,
            log_likelihood=False,
        )
        return self.quantities(idata.posterior, y)

    def quantities(self, posterior, y: np.ndarray) -> np.ndarray:
        """Return the ranked quantities at every draw of a posterior: (chains, draws, K)."""
        parts = self.parts
        chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
        state = parts.from_posterior(posterior)
        flat = np.concatenate([parts.flatten(state), parts.loglik(state, y[None])[:, None]], -1)
        return flat.reshape(chains, draws, -1)


def resumable_sbc(spec, engine, **settings):
    """Return the resumable SBC battery of ``spec`` (:class:`validation.sbc.SBC`)."""
    from validation.sbc import SBC

    problem = None
    if CALIBRATIONS[spec.implementation.name].sbc_parts is not None:
        problem = SpecSBCProblem(
            spec.data, spec.family.name, spec.slopes, dict(spec.factor_labels), spec.priors
        )
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
