"""Sampling the PyMC twins with PyMC's NUTS or nutpie, with compiled models cached per process."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.families import normalize_family
from gibbs.inference_data import OBS_DIM
from gibbs.priors import Priors, default_priors
from reference_models.twins import build_twin, model_var_names, twin_key

__all__ = [
    "SAMPLERS",
    "clear_cache",
    "fit_cached",
    "fit_reference",
    "sample_model",
    "twin_model",
]

SAMPLERS = ("pymc", "nutpie")
_MODELS: dict[tuple, Any] = {}
_NUTPIE: dict[tuple, Any] = {}


def clear_cache() -> None:
    """Forget every cached model and compiled nutpie model."""
    _MODELS.clear()
    _NUTPIE.clear()


def twin_model(
    data: HierarchicalData,
    priors: Priors | None = None,
    parameterization: str = "noncentered",
    family: str = "gaussian",
):
    """Return the (cached) PyMC twin of a Gibbs configuration."""
    key = twin_key(data, priors, parameterization, family)
    if key not in _MODELS:
        _MODELS[key] = build_twin(data, priors, parameterization, family)
    return _MODELS[key]


def fit_cached(
    key: tuple,
    build,
    observed: np.ndarray,
    sampler: str,
    attrs: dict[str, Any] | None = None,
    **kwargs: Any,
):
    """Sample the model ``build()`` makes, built and compiled once per process under ``key``.

    ``kwargs`` go to :func:`sample_model` (draws, tune, chains, seed, ...); ``attrs`` are added
    to the posterior's attributes, after ``sampler``.
    """
    if key not in _MODELS:
        _MODELS[key] = build()
    idata = sample_model(_MODELS[key], sampler, cache_key=key, observed=observed, **kwargs)
    idata.posterior.attrs.update({"sampler": sampler, **(attrs or {})})
    return idata


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


def sample_model(
    model,
    sampler: str = "pymc",
    *,
    cache_key: tuple | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int | None = None,
    target_accept: float = 0.9,
    progressbar: bool = False,
    log_likelihood: bool = True,
    observed: np.ndarray | None = None,
):
    """Sample any PyMC model with PyMC's NUTS or nutpie; same output conventions as fit_reference.

    ``cache_key`` identifies the model for nutpie's compilation cache (no caching without it).
    """
    import pymc as pm

    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    if sampler == "pymc":
        start = time.perf_counter()
        idata = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=min(chains, os.cpu_count() or 1),
            random_seed=seed,
            target_accept=target_accept,
            progressbar=progressbar,
            model=model,
            idata_kwargs={"log_likelihood": log_likelihood},
            compute_convergence_checks=False,
        )
        idata.posterior.attrs["compile_time"] = float("nan")
        idata.posterior.attrs["total_time"] = time.perf_counter() - start
        return idata
    import nutpie

    compile_time = 0.0
    compiled = _NUTPIE.get(cache_key) if cache_key is not None else None
    if compiled is None:
        start = time.perf_counter()
        compiled = nutpie.compile_pymc_model(model)
        compile_time = time.perf_counter() - start
        if cache_key is not None:
            _NUTPIE[cache_key] = compiled
    start = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed if seed is not None else int(np.random.SeedSequence().entropy % 2**32),
        target_accept=target_accept,
        progress_bar=progressbar,
    )
    sampling_time = time.perf_counter() - start
    drop = [v for v in idata.posterior.data_vars if v.endswith("__")]
    idata.posterior = idata.posterior.drop_vars(drop)
    for group in ("warmup_posterior", "warmup_sample_stats"):
        if group in idata.groups():
            delattr(idata, group)
    if log_likelihood:
        pm.compute_log_likelihood(idata, model=model, progressbar=False)
    if "observed_data" not in idata.groups() and observed is not None:
        import xarray as xr

        # A Dataset, not a dict: ArviZ would treat a dict as draws and add chain/draw dims.
        idata.add_groups(observed_data=xr.Dataset({"y": (OBS_DIM, np.asarray(observed))}))
    idata.posterior.attrs["compile_time"] = compile_time
    idata.posterior.attrs["sampling_time"] = sampling_time
    return idata
