"""The varying-intercept twins (every family) sampled by PyMC NUTS or nutpie, cached per process."""

from __future__ import annotations

from gibbs.data import HierarchicalData
from gibbs.families import normalize_family
from gibbs.priors import Priors, default_priors
from reference_models.sampling import MODELS, SAMPLERS, fit_cached
from reference_models.twins import build_twin, model_var_names, twin_key

__all__ = ["fit_intercepts_reference", "twin_model"]


def twin_model(
    data: HierarchicalData,
    priors: Priors | None = None,
    parameterization: str = "noncentered",
    family: str = "gaussian",
):
    """Return the (cached) PyMC twin of a Gibbs configuration."""
    key = twin_key(data, priors, parameterization, family)
    if key not in MODELS:
        MODELS[key] = build_twin(data, priors, parameterization, family)
    return MODELS[key]


def fit_intercepts_reference(
    data: HierarchicalData,
    priors: Priors | None = None,
    sampler: str = "pymc",
    *,
    parameterization: str = "noncentered",
    family: str = "gaussian",
    **sampling,
):
    """Sample the PyMC twin of a varying-intercept configuration (any family).

    The parameters and the output are those of :func:`reference_models.fit.fit_reference`, the
    front door that routes a varying-intercept model here; ``parameterization`` is
    ``"noncentered"`` (default: the centered hierarchy has a funnel NUTS struggles with) or
    ``"centered"``.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    family = normalize_family(family)
    return fit_cached(
        twin_key(data, priors, parameterization, family),
        lambda: build_twin(data, priors, parameterization, family),
        data.y,
        sampler,
        attrs={
            "parameterization": parameterization,
            "priors": repr(priors if priors is not None else default_priors(family)),
            "family": family,
            "compared_vars": model_var_names(data, family),
        },
        **sampling,
    )
