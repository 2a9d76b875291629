"""PyMC twin of the model with further grouping factors (:mod:`gibbs.factors`).

    y_i      ~ Normal(alpha[g(i)] + X_i beta + sum_{f crossed} b_f[f(i)], sigma_y)
    alpha_j  = U_j gamma + sum_{f nested} b_f[f(j)] + sigma_alpha * eta_z_j     (non-centered)
    b_f      = sigma_f * <f>_z,  <f>_z ~ Normal(0, 1)                           "<f>_effect"
    sigma_f  : the Gibbs prior written out as in reference_models.twins          "sigma_<f>"

The centered parameterization draws ``alpha ~ Normal(U gamma + nested effects, sigma_alpha)`` and
``<f>_effect ~ Normal(0, sigma_f)`` directly. Names, dims and coords match the Gibbs output.
"""

from __future__ import annotations

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.inference_data import OBS_DIM
from gibbs.kernels.factors import FactorsModel
from gibbs.priors import Priors, default_priors
from reference_models.sampling import fit_cached
from reference_models.twins import PARAMETERIZATIONS, data_fingerprint, location_rv, scale_rv

__all__ = ["build_factors_twin", "factors_var_names", "fit_factors_reference"]


def factors_var_names(data: HierarchicalData, factor_names) -> list[str]:
    """Posterior variables shared by the Gibbs output and the twin."""
    names = ["alpha", *(["beta"] if data.p else []), "gamma", "sigma_y", "sigma_alpha"]
    for f in factor_names:
        names += [f"{f}_effect", f"sigma_{f}"]
    return names


def build_factors_twin(
    data: HierarchicalData,
    factors,
    priors: Priors | None = None,
    parameterization: str = "noncentered",
):
    """Build the PyMC model that is the same model as the Gibbs configuration.

    Parameters
    ----------
    data : HierarchicalData
    factors : mapping of str to labels per row
        As for ``gibbs.sample(..., factors=)``.
    priors : Priors, optional
    parameterization : {"noncentered", "centered"}
    """
    import pymc as pm

    from gibbs.factors import make_factors

    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}")
    priors = priors if priors is not None else default_priors()
    gm = FactorsModel(data, make_factors(data, factors), priors)
    coords = dict(data.coords)
    coords[OBS_DIM] = np.arange(data.n)
    for f in gm.factors:
        coords[f.name] = list(f.levels)
    centered = parameterization == "centered"
    with pm.Model(coords=coords) as model:
        gamma = location_rv(pm, "gamma", priors.gamma, "u_coef")
        beta = location_rv(pm, "beta", priors.beta, "x_coef") if data.p else None
        sigma_y = scale_rv(pm, "sigma_y", priors.sigma_y)
        sigma_alpha = scale_rv(pm, "sigma_alpha", priors.sigma_alpha)
        mean_alpha = pm.math.dot(data.U, gamma)
        mu = 0.0
        for f in gm.factors:
            sd = scale_rv(pm, f"sigma_{f.name}", priors.factor_scale(f.name))
            if centered:
                b = pm.Normal(f"{f.name}_effect", 0.0, sd, dims=f.name)
            else:
                z = pm.Normal(f"{f.name}_z", 0.0, 1.0, dims=f.name)
                b = pm.Deterministic(f"{f.name}_effect", sd * z, dims=f.name)
            if f.nested:
                mean_alpha = mean_alpha + b[f.group_level]
            else:
                mu = mu + b[f.codes]
        if centered:
            alpha = pm.Normal("alpha", mu=mean_alpha, sigma=sigma_alpha, dims=data.group_dim)
        else:
            z = pm.Normal("alpha_z", 0.0, 1.0, dims=data.group_dim)
            alpha = pm.Deterministic("alpha", mean_alpha + sigma_alpha * z, dims=data.group_dim)
        mu = mu + alpha[data.group]
        if beta is not None:
            mu = mu + pm.math.dot(data.X, beta)
        pm.Normal("y", mu=mu, sigma=sigma_y, observed=data.y, dims=OBS_DIM)
    return model


def fit_factors_reference(
    data: HierarchicalData,
    factors,
    priors: Priors | None = None,
    sampler: str = "nutpie",
    *,
    parameterization: str = "noncentered",
    **sampling,
):
    """Sample the twin with PyMC's NUTS or nutpie (models cached per process).

    ``sampling``: the keywords of :func:`reference_models.fit.sample_model` (draws, tune,
    chains, seed, target_accept, progressbar, log_likelihood), with the same defaults and output
    conventions as :func:`reference_models.fit.fit_reference`.
    """
    priors = priors if priors is not None else default_priors()
    key = (
        "factors",
        data_fingerprint(data),
        tuple((k, tuple(map(str, v))) for k, v in factors.items()),
        repr(priors),
        parameterization,
    )
    return fit_cached(
        key,
        lambda: build_factors_twin(data, factors, priors, parameterization),
        data.y,
        sampler,
        attrs={
            "parameterization": parameterization,
            "priors": repr(priors),
            "compared_vars": factors_var_names(data, list(factors)),
        },
        **sampling,
    )
