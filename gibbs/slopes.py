"""The varying-slopes model: priors, update schemes, initial values and InferenceData.

``gibbs.sample(data, slopes=["floor"])`` or ``gibbs.sample("y ~ floor + (1 + floor | county)",
data=df)`` samples::

    y_i     ~ N(Z_i alpha_j[i] + X_i beta, sigma_y^2)
    alpha_j ~ N(Gamma^T U_j, Sigma)

with Z_i = (1, the varying columns of row i) and X_i the other predictors (the kernels:
:mod:`gibbs.kernels.slopes`). The output reports every alpha_j (dims group x ``effect``), beta
(non-varying predictors only), gamma (``u_coef``: the intercepts' group-level coefficients, as in
the varying-intercept model), gamma_slope (``slope``: the mean slopes), sigma_y, and Sigma as its
standard deviations ``sigma_alpha`` (``effect``) and correlations ``rho_alpha`` (``effect_pair``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gibbs.covariance import (
    correlations,
    standard_deviations,
)
from gibbs.inference_data import OBS_DIM
from gibbs.kernels.slopes import (
    SlopesModel,
    SlopesState,
    collapsed_sigma_slopes,
    update_alpha_slopes,
    update_beta_gamma_marginal_slopes,
    update_beta_slopes,
    update_gamma_slopes,
    update_sigma_slopes,
    update_sigma_y_slopes,
)
from gibbs.priors import (
    SLOPES_PRESETS,
    SlopesPriors,
    slopes_calibration_priors,
)
from gibbs.streams import ChainStreams

__all__ = [
    "SLOPES_PRESETS",
    "SLOPES_SCHEMES",
    "SlopesPriors",
    "effect_pairs",
    "initial_state_slopes",
    "slopes_calibration_priors",
    "slopes_inference_data",
]

_LOG_2PI = float(np.log(2.0 * np.pi))

SLOPES_SCHEMES = {
    # alpha, beta, Gamma, sigma_y, Sigma in turn (the article's order, extended).
    "componentwise": (
        update_alpha_slopes,
        update_beta_slopes,
        update_gamma_slopes,
        update_sigma_y_slopes,
        update_sigma_slopes,
    ),
    # (beta, Gamma) with every alpha_j integrated out, then alpha: the intercept-slope-Gamma
    # correlation no longer slows the chain.
    "blocked": (
        update_beta_gamma_marginal_slopes,
        update_alpha_slopes,
        update_sigma_y_slopes,
        update_sigma_slopes,
    ),
    # (beta, Gamma), then Sigma, with every alpha_j integrated out; then alpha and sigma_y.
    "collapsed": (
        update_beta_gamma_marginal_slopes,
        collapsed_sigma_slopes,
        update_alpha_slopes,
        update_sigma_y_slopes,
    ),
}
DEFAULT_SLOPES_SCHEME = "collapsed"


def effect_pairs(effects: list[str]) -> list[str]:
    """Labels of the correlations, in the order of :func:`gibbs.covariance.correlations`."""
    rows, cols = np.tril_indices(len(effects), -1)
    return [f"{effects[c]}:{effects[r]}" for r, c in zip(rows, cols, strict=True)]


def initial_state_slopes(
    model: SlopesModel, streams: ChainStreams, init: Mapping[str, Any] | None = None
) -> SlopesState:
    """Over-dispersed initial values, one set per chain, from each chain's ``init`` stream.

    (beta, the first row of Gamma) start at the complete-pooling least-squares fit plus two
    standard errors of noise (other rows of Gamma at 0 plus noise), sigma_y at the residual sd
    times exp(N(0, 0.5^2)), Sigma diagonal with standard deviations of half the residual sd times
    exp(N(0, 1)), alpha_j around Gamma^T U_j. ``init`` overrides ``alpha``, ``beta``,
    ``sigma_y`` or ``Sigma``, and Gamma by the posterior's names: ``gamma`` (the intercepts'
    column, one value per column of U) and ``gamma_slope`` (the mean slopes), or ``gamma`` as the
    whole L x K matrix.
    """
    d, C, K, p, L = model.data, streams.chains, model.K, model.p, model.data.q
    D = np.column_stack([model.Z, model.X])
    theta_hat, *_ = np.linalg.lstsq(D, d.y, rcond=None)
    resid = d.y - D @ theta_hat
    s2 = float(resid @ resid) / max(d.n - D.shape[1], 1)
    cov = s2 * np.linalg.pinv(D.T @ D)
    root = np.linalg.cholesky(cov + 1e-12 * np.eye(len(cov)) * max(np.trace(cov), 1e-12))
    m = D.shape[1]
    z = np.stack([g.standard_normal(m + L * K + 1 + K + d.n_groups * K) for g in streams.init])
    theta = theta_hat + 2.0 * z[:, :m] @ root.T
    # Gamma: the pooled fit's intercept and slopes in the constant row, the intercept's other
    # group-level coefficients near zero; structural zeros stay zero.
    gamma = 2.0 * np.sqrt(s2) * z[:, m : m + L * K].reshape(C, L, K) / np.sqrt(d.n)
    gamma[:, model.intercept_row, :] = theta[:, :K]
    gamma = model.scatter_gamma(model.free_gamma(gamma))
    sd = 0.5 * np.sqrt(s2) * np.exp(z[:, m + L * K + 1 : m + L * K + 1 + K])
    values = {
        "beta": theta[:, K:],
        "gamma": gamma,
        "sigma_y": np.sqrt(s2) * np.exp(0.5 * z[:, m + L * K]),
        "Sigma": sd[:, :, None] * np.eye(K) * sd[:, None, :],
    }
    eps = z[:, -d.n_groups * K :].reshape(C, d.n_groups, K)
    values["alpha"] = np.einsum("jl,clk->cjk", d.U, gamma) + eps * sd[:, None, :]
    shapes = {
        "alpha": (d.n_groups, K),
        "beta": (p,),
        "gamma": (L, K),
        "sigma_y": (),
        "Sigma": (K, K),
    }
    init = dict(init or {})
    if "gamma" in init or "gamma_slope" in init:
        values["gamma"] = _gamma_from_init(model, values["gamma"], init)
    for name, value in init.items():
        if name not in shapes:
            raise ValueError(f"init: unknown parameter {name!r}; expected one of {list(shapes)}")
        try:
            values[name] = np.array(np.broadcast_to(np.asarray(value, float), (C, *shapes[name])))
        except ValueError as exc:
            raise ValueError(f"init: {name} must have shape {shapes[name]}") from exc
    if np.any(values["sigma_y"] <= 0):
        raise ValueError("init: sigma_y must be positive")
    if np.any(np.linalg.eigvalsh(values["Sigma"]) <= 0):
        raise ValueError("init: Sigma must be symmetric positive definite")
    return SlopesState(
        **values,
        aux_y=np.ones(C),
        aux_Sigma=model.priors.Sigma.initial_aux(values["Sigma"]),
    )


def _gamma_from_init(model: SlopesModel, gamma: np.ndarray, init: dict) -> np.ndarray:
    """Gamma (chains, L, K) with ``init``'s gamma and gamma_slope in place (popped from it).

    The posterior's ``gamma`` is Gamma's intercept column and ``gamma_slope`` the mean slopes
    (the constant row's other columns), so a draw of either is a valid initial value; a full
    L x K ``gamma`` is taken as Gamma itself. Structural zeros stay zero.
    """
    C, L, K = gamma.shape
    gamma = gamma.copy()
    if "gamma" in init:
        value = np.asarray(init.pop("gamma"), float)
        if value.ndim >= 2 and value.shape[-2:] == (L, K):
            gamma = np.array(np.broadcast_to(value, (C, L, K)))
        else:
            try:
                gamma[:, :, 0] = np.broadcast_to(value, (C, L))
            except ValueError as exc:
                raise ValueError(f"init: gamma must have shape ({L},) or ({L}, {K})") from exc
    if "gamma_slope" in init:
        value = np.asarray(init.pop("gamma_slope"), float)
        try:
            gamma[:, model.intercept_row, 1:] = np.broadcast_to(value, (C, K - 1))
        except ValueError as exc:
            raise ValueError(f"init: gamma_slope must have shape ({K - 1},)") from exc
    return model.scatter_gamma(model.free_gamma(gamma))


def slopes_inference_data(
    model: SlopesModel,
    store: dict[str, np.ndarray],
    keep_alpha: np.ndarray,
    attrs: dict[str, Any],
    *,
    log_likelihood: bool = True,
    predictive_rngs=None,
):
    """Build the InferenceData of a varying-slopes run.

    Parameters
    ----------
    model : SlopesModel
    store : dict
        Arrays shaped (chain, draw, ...) for alpha, beta, gamma, sigma_y, Sigma and lp.
    keep_alpha : ndarray of int
        Which groups ``store["alpha"]`` holds.
    attrs : dict
        Attributes recorded on every group.
    log_likelihood : bool
        Add the pointwise log-likelihood (needs every alpha).
    predictive_rngs : sequence of Generator, optional
        One per chain: add posterior predictive draws of ``y``.
    """
    import arviz as az

    d = model.data
    effects = model.effect_names
    full = keep_alpha.size == d.n_groups
    posterior = {
        "alpha": store["alpha"],
        "gamma": store["gamma"][..., 0],
        "gamma_slope": store["gamma"][..., model.intercept_row, 1:],
        "sigma_y": store["sigma_y"],
        "sigma_alpha": standard_deviations(store["Sigma"]),
        "rho_alpha": correlations(store["Sigma"]),
    }
    if model.p:
        posterior["beta"] = store["beta"]
    coords = {
        d.group_dim: [d.group_names[k] for k in keep_alpha],
        "effect": effects,
        "effect_pair": effect_pairs(effects),
        "slope": list(model.slopes),
        "x_coef": model.fixed_names,
        "u_coef": list(d.u_names),
        OBS_DIM: np.arange(d.n),
        f"{d.group_dim}_all": list(d.group_names),
    }
    dims = {
        "alpha": [d.group_dim, "effect"],
        "beta": ["x_coef"],
        "gamma": ["u_coef"],
        "gamma_slope": ["slope"],
        "sigma_alpha": ["effect"],
        "rho_alpha": ["effect_pair"],
        "y": [OBS_DIM],
    }
    groups: dict[str, Any] = {}
    if (log_likelihood or predictive_rngs is not None) and full:
        alpha = np.asarray(store["alpha"], float)
        mu = np.einsum("ik,cdik->cdi", model.Z, alpha[:, :, d.group])
        if model.p:
            mu = mu + np.asarray(store["beta"], float) @ model.X.T
        s = np.asarray(store["sigma_y"], float)[..., None]
        if log_likelihood:
            z = (d.y - mu) / s
            groups["log_likelihood"] = {"y": -0.5 * (_LOG_2PI + z * z) - np.log(s)}
        if predictive_rngs is not None:
            noise = np.stack([g.standard_normal(mu.shape[1:]) for g in predictive_rngs])
            groups["posterior_predictive"] = {"y": mu + s * noise}
    idata = az.from_dict(
        posterior=posterior,
        sample_stats={"lp": store["lp"]},
        observed_data={"y": d.y},
        constant_data={"group": d.group, "Z": model.Z, "X": model.X, "U": d.U},
        coords=coords,
        dims={
            **dims,
            "group": [OBS_DIM],
            "Z": [OBS_DIM, "effect"],
            "X": [OBS_DIM, "x_coef"],
            "U": [d.group_dim if full else f"{d.group_dim}_all", "u_coef"],
        },
        attrs=attrs,
        **groups,
    )
    for group in idata.groups():
        getattr(idata, group).attrs.update(attrs)
    return idata
