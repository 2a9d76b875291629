"""The NUTS reference of any :class:`gibbs.spec.ModelSpec`: its twin, fitted, by kernel.

One entry per kernel of :data:`gibbs.structures.IMPLEMENTATIONS`: the twin written for that
kernel's models (the specialised twins keep the NUTS runs the goldens and tests were tuned on),
its default parameterization, and the variables it shares with the Gibbs output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gibbs.spec import ModelSpec
from reference_models.factors_twin import (
    build_factors_twin,
    factors_var_names,
    fit_factors_reference,
)
from reference_models.intercepts_reference import fit_intercepts_reference
from reference_models.parameterization import choose_parameterization
from reference_models.slopes_twin import build_slopes_twin, fit_slopes_reference, slopes_var_names
from reference_models.spec_twin import build_spec_twin, fit_spec_reference, spec_var_names
from reference_models.twins import build_twin, model_var_names

__all__ = [
    "BUILDERS",
    "REFERENCES",
    "Reference",
    "build_spec",
    "compared_vars",
    "fit_spec",
    "twin_from_formula",
]


@dataclass(frozen=True)
class Reference:
    """How the twin of one kernel's models is fitted."""

    fit: Callable[..., Any]
    var_names: Callable[[ModelSpec], list[str]]
    parameterization: str = "noncentered"


REFERENCES: dict[str, Reference] = {
    "intercepts": Reference(
        fit=lambda spec, sampler, parameterization, **kw: fit_intercepts_reference(
            spec.data,
            spec.priors,
            sampler,
            parameterization=parameterization,
            family=spec.family.name,
            **kw,
        ),
        var_names=lambda spec: model_var_names(spec.data, spec.family.name),
    ),
    "slopes": Reference(
        fit=lambda spec, sampler, parameterization, **kw: fit_slopes_reference(
            spec.data, spec.slopes, spec.priors, sampler, parameterization=parameterization, **kw
        ),
        var_names=lambda spec: slopes_var_names(spec.data, spec.slopes),
    ),
    # NUTS mixes slowly between the intercept and a few state effects when non-centered.
    "factors": Reference(
        fit=lambda spec, sampler, parameterization, **kw: fit_factors_reference(
            spec.data,
            spec.factor_labels,
            spec.priors,
            sampler,
            parameterization=parameterization,
            **kw,
        ),
        var_names=lambda spec: factors_var_names(spec.data, list(spec.factor_labels)),
        parameterization="centered",
    ),
    "general": Reference(
        fit=lambda spec, sampler, parameterization, **kw: fit_spec_reference(
            spec, sampler, parameterization=parameterization, **kw
        ),
        var_names=spec_var_names,
    ),
}


def compared_vars(spec: ModelSpec) -> list[str]:
    """Return the variables the Gibbs output and the twin share."""
    return REFERENCES[spec.implementation.name].var_names(spec)


def fit_spec(
    spec: ModelSpec, sampler: str = "nutpie", parameterization: str | None = None, **sampling
):
    """Fit the twin of ``spec`` with PyMC's NUTS or nutpie (see :mod:`reference_models.fit`).

    ``parameterization`` defaults to the kernel's (:data:`REFERENCES`), or the centred twin
    where the data pin every group's intercept
    (:func:`reference_models.parameterization.choose_parameterization`); ``sampling`` takes the
    keywords of :func:`reference_models.fit.sample_model`.
    """
    ref = REFERENCES[spec.implementation.name]
    if parameterization is None:
        parameterization = choose_parameterization(spec, ref.parameterization)
    return ref.fit(spec, sampler, parameterization, **sampling)


# The twin of each kernel's models, built (not fitted), by kernel.
BUILDERS: dict[str, Callable[[ModelSpec, str], Any]] = {
    "intercepts": lambda spec, p: build_twin(spec.data, spec.priors, p, spec.family.name),
    "slopes": lambda spec, p: build_slopes_twin(spec.data, spec.slopes, spec.priors, p),
    "factors": lambda spec, p: build_factors_twin(spec.data, spec.factor_labels, spec.priors, p),
    "general": build_spec_twin,
}


def build_spec(spec: ModelSpec, parameterization: str = "noncentered"):
    """Build the PyMC twin of ``spec`` (the kernel's own twin, :data:`BUILDERS`)."""
    return BUILDERS[spec.implementation.name](spec, parameterization)


def twin_from_formula(
    formula: str,
    data,
    priors=None,
    parameterization: str = "noncentered",
    family: str = "gaussian",
    trials: str | int | None = None,
):
    """Build the PyMC twin of the model a formula describes.

    The formula is parsed once into the same specification ``gibbs.sample(formula, data=df)``
    samples (:func:`gibbs.specify`), so the twin is the same model by construction.
    """
    from gibbs.spec import specify

    spec = specify(formula, data, family=family, priors=priors, trials=trials)
    return build_spec(spec, parameterization)
