"""Sampling the PyMC twins with PyMC's NUTS or nutpie, with compiled models cached per process."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gibbs.data import HierarchicalData
from gibbs.priors import Priors
from gibbs.spec import ModelSpec, as_spec
from reference_models.intercepts_reference import fit_intercepts_reference, twin_model
from reference_models.reference import fit_spec
from reference_models.sampling import SAMPLERS, clear_cache, fit_cached, sample_model

__all__ = [
    "SAMPLERS",
    "clear_cache",
    "fit_cached",
    "fit_reference",
    "sample_model",
    "twin_model",
]


def fit_reference(
    data_or_formula: HierarchicalData | str | ModelSpec | None = None,
    priors: Priors | Any = None,
    sampler: str = "pymc",
    *,
    data: Any = None,
    family: str = "gaussian",
    slopes: Sequence[str] | None = None,
    factors: Mapping[str, Any] | None = None,
    trials: str | int | None = None,
    parameterization: str | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int | None = None,
    random_seed: int | None = None,
    target_accept: float = 0.9,
    progressbar: bool = False,
    log_likelihood: bool = True,
):
    """Sample the PyMC twin (same likelihood, same priors) of what :func:`gibbs.sample` takes.

    Parameters
    ----------
    data_or_formula : HierarchicalData, str or ModelSpec
        As in :func:`gibbs.sample`: the data, a formula evaluated on the DataFrame ``data``, or
        a :class:`gibbs.spec.ModelSpec`.
    priors : Priors, SlopesPriors, preset name or mapping, optional
        The model's priors (the family's defaults when omitted), as in :func:`gibbs.sample`.
    sampler : {"pymc", "nutpie"}
        PyMC's NUTS or nutpie's NUTS (compiled once per process and model).
    data, family, slopes, factors, trials
        As in :func:`gibbs.sample`.
    parameterization : str, optional
        The twin's parameterization. Default: non-centered for varying intercepts, else the
        one each structure's references use (:func:`reference_models.reference.fit_spec`).
    draws, tune, chains : int
        As in ``pm.sample``.
    seed, random_seed : int, optional
        The random seed (``random_seed`` is PyMC's name; give one of them).
    target_accept : float
        NUTS target acceptance (0.9: fewer divergences in hierarchical models).
    progressbar : bool
        Show the sampler's progress.
    log_likelihood : bool
        Add the pointwise log-likelihood (for LOO).

    Returns
    -------
    arviz.InferenceData
        Posterior restricted to the twin's own variables (no transformed ``*__`` values), with
        ``sample_stats`` (diverging, ...), ``observed_data`` and optionally ``log_likelihood``.
        ``posterior.attrs`` has ``sampler``, ``compile_time``, ``sampling_time``.
    """
    from gibbs.arguments import alias

    seed = alias("seed", seed, "random_seed", random_seed)
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    run = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "seed": seed,
        "target_accept": target_accept,
        "progressbar": progressbar,
        "log_likelihood": log_likelihood,
    }
    plain = isinstance(data_or_formula, HierarchicalData) and data is None
    if plain and not slopes and not factors and not isinstance(priors, str | Mapping):
        return fit_intercepts_reference(
            data_or_formula,
            priors,
            sampler,
            parameterization=parameterization or "noncentered",
            family=family,
            **run,
        )
    spec = as_spec(
        data_or_formula,
        data,
        family=family,
        priors=priors,
        slopes=slopes,
        factors=factors,
        trials=trials,
    )
    return fit_spec(spec, sampler, parameterization, **run)
