"""Sampling the PyMC twins with PyMC's NUTS or nutpie, with compiled models cached per process."""

from __future__ import annotations

from gibbs.data import HierarchicalData
from gibbs.families import normalize_family
from gibbs.priors import Priors, default_priors
from reference_models.sampling import MODELS, SAMPLERS, clear_cache, fit_cached, sample_model
from reference_models.twins import build_twin, model_var_names, twin_key

__all__ = [
    "SAMPLERS",
    "clear_cache",
    "fit_cached",
    "fit_reference",
    "sample_model",
    "twin_model",
]


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


def fit_reference(
    data: HierarchicalData,
    priors: Priors | None = None,
    sampler: str = "pymc",
    *,
    parameterization: str = "noncentered",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int | None = None,
    target_accept: float = 0.9,
    progressbar: bool = False,
    log_likelihood: bool = True,
    family: str = "gaussian",
):
    """Sample the PyMC twin of a Gibbs configuration.

    Parameters
    ----------
    data : HierarchicalData
    priors : Priors, optional
        Gelman & Hill's defaults when omitted.
    sampler : {"pymc", "nutpie"}
        PyMC's NUTS or nutpie's NUTS (compiled once per process and model).
    parameterization : {"noncentered", "centered"}
        Non-centered by default: the centered hierarchy has a funnel NUTS struggles with.
    draws, tune, chains : int
        As in ``pm.sample``.
    seed : int, optional
        Random seed.
    target_accept : float
        NUTS target acceptance (0.9: fewer divergences in hierarchical models).
    progressbar : bool
        Show the sampler's progress.
    log_likelihood : bool
        Add the pointwise log-likelihood (for LOO).
    family : {"gaussian", "logistic", "probit"}
        Outcome family of the twin.

    Returns
    -------
    arviz.InferenceData
        Posterior restricted to the twin's own variables (no transformed ``*__`` values), with
        ``sample_stats`` (diverging, ...), ``observed_data`` and optionally ``log_likelihood``.
        ``posterior.attrs`` has ``sampler``, ``compile_time``, ``sampling_time``.
    """
    if not isinstance(data, HierarchicalData):
        raise ValueError(
            f"fit_reference takes a HierarchicalData, got {type(data).__name__}; for a formula "
            "or a ModelSpec use reference_models.reference.fit_spec(gibbs.specify(formula, "
            "data=df, family=...))"
        )
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
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        target_accept=target_accept,
        progressbar=progressbar,
        log_likelihood=log_likelihood,
    )
