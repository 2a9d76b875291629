"""Several grouping levels: the varying-intercept model with further nested or crossed factors.

``gibbs.sample(data, factors={"state": state_of_each_row})`` samples::

    y_i     ~ N(alpha_j[i] + X_i beta + sum_{f crossed} b_f[f(i)], sigma_y^2)
    alpha_j ~ N(U_j gamma + sum_{f nested} b_f[f(j)], sigma_alpha^2)
    b_f[l]  ~ N(0, sigma_f^2)

A factor constant within every group is nested above the groups (house < county < state: each
county's intercept is centred on its uranium prediction plus its state's effect); any other factor
is crossed with them. The kernels are in :mod:`gibbs.kernels.factors`; each factor's scale
prior is ``Priors.factor_scales[name]`` (uniform by default). The output has, besides the
varying-intercept model's variables (alpha includes the nested effects), ``<factor>_effect``
(dims: the factor) and ``sigma_<factor>`` for every factor.

With few levels (8 states) the posterior of a factor's scale depends on its prior: see
docs/factors.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.inference_data import OBS_DIM
from gibbs.kernels.factors import (
    Factor,
    FactorsModel,
    FactorsState,
    collapsed_sigma_alpha_factors,
    update_eta,
    update_factor_scales,
    update_locations,
    update_sigma_alpha_factors,
    update_sigma_y_factors,
    update_small,
)
from gibbs.kernels.gaussian import chain_dot
from gibbs.streams import ChainStreams

__all__ = [
    "FACTORS_SCHEMES",
    "factors_inference_data",
    "initial_state_factors",
    "make_factors",
]

_LOG_2PI = float(np.log(2.0 * np.pi))

FACTORS_SCHEMES = {
    # Every location (beta, gamma, the factors' effects, the group deviations) in one Gaussian
    # block, then the variances.
    "blocked": (
        update_locations,
        update_sigma_y_factors,
        update_sigma_alpha_factors,
        update_factor_scales,
    ),
    # (beta, gamma, effects), then sigma_alpha, with the group deviations integrated out; then
    # the deviations, sigma_y and the factors' scales.
    "collapsed": (
        update_small,
        collapsed_sigma_alpha_factors,
        update_eta,
        update_sigma_y_factors,
        update_factor_scales,
    ),
}
DEFAULT_FACTORS_SCHEME = "collapsed"


def make_factors(data: HierarchicalData, factors: Mapping[str, Any]) -> tuple[Factor, ...]:
    """Build the factors from one label per row each, in the order given."""
    if not isinstance(factors, Mapping) or not factors:
        raise ValueError("factors must be a non-empty mapping of name -> one label per row")
    return tuple(Factor.from_labels(name, labels, data) for name, labels in factors.items())


def initial_state_factors(
    model: FactorsModel, streams: ChainStreams, init: Mapping[str, Any] | None = None
) -> FactorsState:
    """Over-dispersed initial values, one set per chain, from each chain's ``init`` stream.

    (beta, gamma) start at the complete-pooling least-squares fit plus two standard errors of
    noise, sigma_y at the residual sd times exp(N(0, 0.5^2)), sigma_alpha and every sigma_f at
    half of it times exp(N(0, 1)); effects and eta are drawn from their priors. ``init`` overrides
    ``beta``, ``gamma``, ``sigma_y``, ``sigma_alpha`` or ``sigma_f``.
    """
    d, C, F = model.data, streams.chains, len(model.factors)
    D = np.column_stack([d.X, d.U[d.group]])
    theta_hat, *_ = np.linalg.lstsq(D, d.y, rcond=None)
    resid = d.y - D @ theta_hat
    s2 = float(resid @ resid) / max(d.n - D.shape[1], 1)
    cov = s2 * np.linalg.pinv(D.T @ D)
    root = np.linalg.cholesky(cov + 1e-12 * np.eye(len(cov)) * max(np.trace(cov), 1e-12))
    m, E, J = D.shape[1], model.n_small - D.shape[1], d.n_groups
    z = np.stack([g.standard_normal(m + 2 + F + E + J) for g in streams.init])
    theta = theta_hat + 2.0 * chain_dot(z[:, :m], root.T)  # chain by chain: see chain_dot
    values = {
        "beta": theta[:, : d.p],
        "gamma": theta[:, d.p :],
        "sigma_y": np.sqrt(s2) * np.exp(0.5 * z[:, m]),
        "sigma_alpha": 0.5 * np.sqrt(s2) * np.exp(z[:, m + 1]),
        "sigma_f": 0.5 * np.sqrt(s2) * np.exp(z[:, m + 2 : m + 2 + F]),
    }
    shapes = {"beta": (d.p,), "gamma": (d.q,), "sigma_y": (), "sigma_alpha": (), "sigma_f": (F,)}
    for name, value in (init or {}).items():
        if name not in shapes:
            raise ValueError(f"init: unknown parameter {name!r}; expected one of {list(shapes)}")
        try:
            values[name] = np.array(np.broadcast_to(np.asarray(value, float), (C, *shapes[name])))
        except ValueError as exc:
            raise ValueError(f"init: {name} must have shape {shapes[name]}") from exc
    for name in ("sigma_y", "sigma_alpha", "sigma_f"):
        if np.any(values[name] <= 0):
            raise ValueError(f"init: {name} must be positive")
    sd = np.repeat(values["sigma_f"], np.diff(model.offsets), axis=1)
    effects = sd * z[:, m + 2 + F : m + 2 + F + E]
    eta = values["sigma_alpha"][:, None] * z[:, m + 2 + F + E :]
    return FactorsState(
        alpha=model.group_intercepts(values["gamma"], effects, eta),
        eta=eta,
        effects=effects,
        **values,
        aux_y=np.ones(C),
        aux_alpha=np.ones(C),
        aux_f=np.ones((C, F)),
    )


def factors_inference_data(
    model: FactorsModel,
    store: dict[str, np.ndarray],
    keep_alpha: np.ndarray,
    attrs: dict[str, Any],
    *,
    log_likelihood: bool = True,
    predictive_rngs=None,
):
    """Build the InferenceData of a run with further grouping factors."""
    import arviz as az

    d = model.data
    full = keep_alpha.size == d.n_groups
    posterior = {
        "alpha": store["alpha"],
        "gamma": store["gamma"],
        "sigma_y": store["sigma_y"],
        "sigma_alpha": store["sigma_alpha"],
    }
    if d.p:
        posterior["beta"] = store["beta"]
    coords = {
        d.group_dim: [d.group_names[k] for k in keep_alpha],
        "x_coef": list(d.x_names),
        "u_coef": list(d.u_names),
        OBS_DIM: np.arange(d.n),
    }
    dims = {"alpha": [d.group_dim], "beta": ["x_coef"], "gamma": ["u_coef"], "y": [OBS_DIM]}
    for k, f in enumerate(model.factors):
        posterior[f"{f.name}_effect"] = model.factor_effects(store["effects"], k)
        posterior[f"sigma_{f.name}"] = store["sigma_f"][..., k]
        coords[f.name] = list(f.levels)
        dims[f"{f.name}_effect"] = [f.name]
    groups: dict[str, Any] = {}
    if (log_likelihood or predictive_rngs is not None) and full:
        mu = model.row_mean(
            np.asarray(store["beta"], float),
            np.asarray(store["alpha"], float),
            np.asarray(store["effects"], float),
        )
        s = np.asarray(store["sigma_y"], float)[..., None]
        if log_likelihood:
            z = (d.y - mu) / s
            groups["log_likelihood"] = {"y": -0.5 * (_LOG_2PI + z * z) - np.log(s)}
        if predictive_rngs is not None:
            noise = np.stack([g.standard_normal(mu.shape[1:]) for g in predictive_rngs])
            groups["posterior_predictive"] = {"y": mu + s * noise}
    constant = {"group": d.group, "X": d.X}
    const_dims = {"group": [OBS_DIM], "X": [OBS_DIM, "x_coef"]}
    for f in model.factors:
        constant[f"{f.name}_code"] = f.codes
        const_dims[f"{f.name}_code"] = [OBS_DIM]
    idata = az.from_dict(
        posterior=posterior,
        sample_stats={"lp": store["lp"]},
        observed_data={"y": d.y},
        constant_data=constant,
        coords=coords,
        dims={**dims, **const_dims},
        attrs=attrs,
        **groups,
    )
    for group in idata.groups():
        getattr(idata, group).attrs.update(attrs)
    return idata
