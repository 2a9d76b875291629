"""PyMC twins of the Gibbs configurations: the same likelihood and the same priors.

For data from :class:`gibbs.data.HierarchicalData` and priors from :class:`gibbs.priors.Priors`::

    y_i     ~ Normal(alpha_j[i] + X_i beta, sigma_y)            "y"      dims obs_id
    alpha_j ~ Normal(U_j gamma, sigma_alpha)                     "alpha"  dims <group_dim>
    beta    ~ Flat() | Normal(mu, sigma)                          "beta"   dims x_coef
    gamma   ~ Flat() | Normal(mu, sigma)                          "gamma"  dims u_coef

and each scale prior written out in PyMC:

    UniformSigma       pm.HalfFlat
    UniformLogSigma    pm.HalfFlat plus pm.Potential(-log sigma)
    InverseGamma(a,b)  "<name>_sq" ~ pm.InverseGamma(a, b), sigma = sqrt (Deterministic)
    HalfStudentT(nu,s) pm.HalfStudentT(nu, s)
    HalfNormal(s)      pm.HalfNormal(s)

For the binomial families (:mod:`gibbs.families`) the likelihood is
``pm.Binomial("y", n=trials, logit_p=eta)`` (logistic) or ``pm.Binomial("y", n=trials,
p=invprobit(eta))`` (probit), and there is no ``sigma_y``.

The non-centered parameterization draws ``alpha_z ~ Normal(0, 1)`` and sets
``alpha = U gamma + sigma_alpha alpha_z`` (Deterministic); the centered one draws ``alpha``
directly. Names, dims and coords match the Gibbs output, so the two ``InferenceData`` line up.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.families import check_outcome, normalize_family
from gibbs.inference_data import OBS_DIM
from gibbs.priors import (
    Flat,
    HalfNormal,
    HalfStudentT,
    InverseGamma,
    Normal,
    Priors,
    UniformLogSigma,
    UniformSigma,
    default_priors,
)

__all__ = [
    "PARAMETERIZATIONS",
    "build_twin",
    "location_rv",
    "model_var_names",
    "scale_rv",
]

PARAMETERIZATIONS = ("noncentered", "centered")


def model_var_names(data: HierarchicalData, family: str = "gaussian") -> list[str]:
    """Posterior variables shared by the Gibbs output and every twin."""
    scales = ["sigma_y", "sigma_alpha"] if family == "gaussian" else ["sigma_alpha"]
    return ["alpha", *(["beta"] if data.p else []), "gamma", *scales]


def location_rv(pm, name: str, prior, dims: str):
    """Return the PyMC variable of a location prior (:mod:`gibbs.priors`) named ``name``."""
    if isinstance(prior, Flat):
        return pm.Flat(name, dims=dims)
    if isinstance(prior, Normal):
        return pm.Normal(
            name, mu=np.asarray(prior.mu, float), sigma=np.asarray(prior.sigma, float), dims=dims
        )
    raise TypeError(f"no PyMC twin for location prior {prior!r}")


def scale_rv(pm, name: str, prior):
    """Return the PyMC variable of a scale prior on ``name`` (a standard deviation)."""
    if isinstance(prior, UniformSigma):
        return pm.HalfFlat(name)
    if isinstance(prior, UniformLogSigma):
        sigma = pm.HalfFlat(name)
        pm.Potential(f"{name}_log_uniform", -pm.math.log(sigma))
        return sigma
    if isinstance(prior, InverseGamma):
        variance = pm.InverseGamma(f"{name}_sq", alpha=prior.alpha, beta=prior.beta)
        return pm.Deterministic(name, pm.math.sqrt(variance))
    if isinstance(prior, HalfStudentT):
        return pm.HalfStudentT(name, nu=prior.nu, sigma=prior.sigma)
    if isinstance(prior, HalfNormal):
        return pm.HalfNormal(name, sigma=prior.sigma)
    raise TypeError(f"no PyMC twin for scale prior {prior!r}")


def build_twin(
    data: HierarchicalData,
    priors: Priors | None = None,
    parameterization: str = "noncentered",
    family: str = "gaussian",
):
    """Build the PyMC model that is the same model as the Gibbs configuration.

    Parameters
    ----------
    data : HierarchicalData
    priors : Priors, optional
        The family's defaults (:func:`gibbs.priors.default_priors`) when omitted.
    parameterization : {"noncentered", "centered"}
    family : {"gaussian", "logistic", "probit"}

    Returns
    -------
    pymc.Model
    """
    import pymc as pm

    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}")
    family = normalize_family(family)
    priors = priors if priors is not None else default_priors(family)
    check_outcome(data, family)
    priors.check(data, family)
    coords = dict(data.coords)
    coords[OBS_DIM] = np.arange(data.n)
    with pm.Model(coords=coords) as model:
        gamma = location_rv(pm, "gamma", priors.gamma, "u_coef")
        beta = location_rv(pm, "beta", priors.beta, "x_coef") if data.p else None
        sigma_y = scale_rv(pm, "sigma_y", priors.sigma_y) if family == "gaussian" else None
        sigma_alpha = scale_rv(pm, "sigma_alpha", priors.sigma_alpha)
        mean_alpha = pm.math.dot(data.U, gamma)
        if parameterization == "centered":
            alpha = pm.Normal("alpha", mu=mean_alpha, sigma=sigma_alpha, dims=data.group_dim)
        else:
            z = pm.Normal("alpha_z", 0.0, 1.0, dims=data.group_dim)
            alpha = pm.Deterministic("alpha", mean_alpha + sigma_alpha * z, dims=data.group_dim)
        mu = alpha[data.group]
        if beta is not None:
            mu = mu + pm.math.dot(data.X, beta)
        if family == "gaussian":
            pm.Normal("y", mu=mu, sigma=sigma_y, observed=data.y, dims=OBS_DIM)
        elif family == "logistic":
            pm.Binomial("y", n=data.binomial_trials, logit_p=mu, observed=data.y, dims=OBS_DIM)
        else:
            p = pm.math.invprobit(mu)
            pm.Binomial("y", n=data.binomial_trials, p=p, observed=data.y, dims=OBS_DIM)
    return model


def data_fingerprint(data: HierarchicalData) -> str:
    """Content hash of a dataset (for caches keyed by data rather than by object)."""
    h = hashlib.sha1()
    for arr in (data.y, data.X, data.group, data.U, data.binomial_trials):
        h.update(np.ascontiguousarray(arr).tobytes())
        h.update(str(arr.shape).encode())
    h.update(repr((data.group_names, data.x_names, data.u_names, data.group_dim)).encode())
    if data.offset is not None:  # only then, so that the keys of data without one stay the same
        h.update(b"offset" + np.ascontiguousarray(data.offset).tobytes())
    return h.hexdigest()


def twin_key(
    data: HierarchicalData,
    priors: Priors | None,
    parameterization: str,
    family: str = "gaussian",
) -> tuple[Any, ...]:
    """Cache key of a twin: data content, priors, parameterization and family."""
    family = normalize_family(family)
    return (
        data_fingerprint(data),
        repr(priors if priors is not None else default_priors(family)),
        parameterization,
        family,
    )
