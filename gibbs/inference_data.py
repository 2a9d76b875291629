"""Collection of stored draws into ``arviz.InferenceData`` with the model's names and coords.

Variable names, dims and coords are shared with the PyMC twins (``reference_models``), so the two
``InferenceData`` objects line up name by name: ``alpha[group_dim]``, ``beta[x_coef]``,
``gamma[u_coef]``, ``sigma_y``, ``sigma_alpha``, and the observed ``y[obs_id]``, which
:func:`gibbs.sample` renames after the outcome (``log_radon``), as PyMC names it after its
variable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.families import binomial_loglik, success_probability

__all__ = ["OBS_GROUPS", "OBS_DIM", "model_dims", "name_outcome", "to_inference_data"]

OBS_DIM = "obs_id"
_LOG_2PI = float(np.log(2.0 * np.pi))


# The groups that hold the outcome, one variable per row.
OBS_GROUPS = ("observed_data", "log_likelihood", "posterior_predictive")


def name_outcome(idata: Any, name: str) -> Any:
    """Rename the outcome ``y`` after the data's outcome column in every group that holds it.

    PyMC calls the observed variable, its pointwise log-likelihood and its replicated draws by
    the likelihood's name; the Gibbs output does so with the column's name. A name that a group
    already uses (a dim or a coordinate) keeps ``y``: renaming would merge two things.
    """
    if name == "y" or not name.isidentifier():
        return idata
    for group in OBS_GROUPS:
        if group in idata.groups():
            ds = getattr(idata, group)
            if "y" in ds.data_vars and name not in ds.variables and name not in ds.dims:
                setattr(idata, group, ds.rename({"y": name}))
    return idata


def model_dims(data: HierarchicalData) -> dict[str, list[str]]:
    """Dims of every variable of the varying-intercept model."""
    return {
        "alpha": [data.group_dim],
        "beta": ["x_coef"],
        "gamma": ["u_coef"],
        "y": [OBS_DIM],
        "X": [OBS_DIM, "x_coef"],
        "group": [OBS_DIM],
        "U": [data.group_dim, "u_coef"],
        "trials": [OBS_DIM],
    }


def _pointwise(data: HierarchicalData, posterior: dict[str, np.ndarray]) -> np.ndarray:
    """Mean of y_i at every draw, shape (chain, draw, n); needs every alpha."""
    mu = np.asarray(posterior["alpha"], dtype=float)[..., data.group]
    if data.p:
        mu += np.asarray(posterior["beta"], dtype=float) @ data.X.T
    return mu


def to_inference_data(
    data: HierarchicalData,
    store: dict[str, np.ndarray],
    keep_alpha: np.ndarray,
    attrs: dict[str, Any],
    *,
    log_likelihood: bool = True,
    predictive_rngs: Sequence[np.random.Generator] | None = None,
    family: str = "gaussian",
):
    """Build the InferenceData of a varying-intercept run (any family).

    Parameters
    ----------
    data : HierarchicalData
        The data sampled.
    store : dict
        Arrays shaped (chain, draw, ...) for alpha, beta, gamma, sigma_y, sigma_alpha and lp.
    keep_alpha : ndarray of int
        Which groups' intercepts ``store["alpha"]`` holds.
    attrs : dict
        Attributes recorded on every group.
    log_likelihood : bool
        Add the pointwise log-likelihood (needs every alpha).
    predictive_rngs : sequence of Generator, optional
        One per chain: add posterior predictive draws of ``y``.
    family : str
        Outcome family (:mod:`gibbs.families`): sets the likelihood of ``log_likelihood`` and
        of the predictive draws; binomial families have no ``sigma_y`` and record ``trials``.

    Returns
    -------
    arviz.InferenceData
    """
    import arviz as az

    coords = dict(data.coords)
    coords[data.group_dim] = [data.group_names[j] for j in keep_alpha]
    coords[OBS_DIM] = np.arange(data.n)
    all_coords = dict(coords, **{f"{data.group_dim}_all": list(data.group_names)})
    dims = model_dims(data)
    dims["U"] = [f"{data.group_dim}_all", "u_coef"]
    posterior = {
        k: store[k] for k in ("alpha", "beta", "gamma", "sigma_y", "sigma_alpha") if k in store
    }
    if data.p == 0:
        del posterior["beta"]
    full_alpha = keep_alpha.size == data.n_groups
    groups: dict[str, Any] = {}
    need_mu = full_alpha and (log_likelihood or predictive_rngs is not None)
    if (log_likelihood or predictive_rngs is not None) and not full_alpha:
        raise ValueError("log_likelihood and posterior_predictive need store_alpha=True")
    if need_mu:
        mu = _pointwise(data, store)
        if family == "gaussian":
            sigma = store["sigma_y"][..., None]
            if log_likelihood:
                z = (data.y - mu) / sigma
                groups["log_likelihood"] = {"y": -0.5 * (_LOG_2PI + z * z) - np.log(sigma)}
            if predictive_rngs is not None:
                noise = np.stack([g.standard_normal(mu.shape[1:]) for g in predictive_rngs])
                groups["posterior_predictive"] = {"y": mu + sigma * noise}
        else:
            trials = data.binomial_trials
            if log_likelihood:
                groups["log_likelihood"] = {"y": binomial_loglik(family, mu, data.y, trials)}
            if predictive_rngs is not None:
                prob = success_probability(family, mu)
                groups["posterior_predictive"] = {
                    "y": np.stack(
                        [
                            g.binomial(trials.astype(np.int64), pc)
                            for g, pc in zip(predictive_rngs, prob, strict=True)
                        ]
                    ).astype(float)
                }
    constant = {"X": data.X, "group": data.group, "U": data.U}
    if family != "gaussian":
        constant["trials"] = data.binomial_trials
    idata = az.from_dict(
        posterior=posterior,
        sample_stats={"lp": store["lp"]},
        observed_data={"y": np.asarray(data.y)},
        constant_data=constant,
        coords=all_coords,
        dims=dims,
        attrs=attrs,
        **groups,
    )
    # PyMC keeps its run attributes on the posterior group too; so do we.
    idata.posterior.attrs.update(attrs)
    return idata
