"""Sampling PyMC models with PyMC's NUTS or nutpie, with compiled models cached per process.

The base of :mod:`reference_models`: it imports no twin, so every twin module can use it.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from gibbs.inference_data import OBS_DIM

__all__ = ["MODELS", "SAMPLERS", "clear_cache", "fit_cached", "sample_model"]

SAMPLERS = ("pymc", "nutpie")
MODELS: dict[tuple, Any] = {}
_NUTPIE: dict[tuple, Any] = {}


def clear_cache() -> None:
    """Forget every cached model and compiled nutpie model."""
    MODELS.clear()
    _NUTPIE.clear()


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
    if key not in MODELS:
        MODELS[key] = build()
    idata = sample_model(MODELS[key], sampler, cache_key=key, observed=observed, **kwargs)
    idata.posterior.attrs.update({"sampler": sampler, **(attrs or {})})
    return idata


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
    low_rank: bool = False,
):
    """Sample any PyMC model with PyMC's NUTS or nutpie; same output conventions as fit_reference.

    ``cache_key`` identifies the model for nutpie's compilation cache (no caching without it).
    ``low_rank`` (nutpie only): adapt a diagonal plus low-rank mass matrix, for posteriors with
    a few strongly correlated directions (a shared intercept and small factors' effects).
    """
    import pymc as pm

    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    if low_rank and sampler != "nutpie":
        raise ValueError("low_rank needs the nutpie sampler")
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
        low_rank_modified_mass_matrix=low_rank,
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
