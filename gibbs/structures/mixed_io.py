"""Initial values, storage and InferenceData of the general kernel (gibbs.structures.mixed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gibbs.covariance import correlations, standard_deviations
from gibbs.inference_data import OBS_DIM
from gibbs.kernels.gaussian import chain_dot
from gibbs.slopes import effect_pairs
from gibbs.streams import ChainStreams
from gibbs.structures.mixed import MixedModel, MixedState, full_predictor, log_joint_mixed

__all__ = ["initial_state_mixed", "mixed_inference_data", "mixed_record", "mixed_var_names"]


def initial_state_mixed(
    model: MixedModel, streams: ChainStreams, init: Mapping[str, Any] | None = None
) -> MixedState:
    """Over-dispersed initial values, one set per chain, from each chain's ``init`` stream.

    (beta, the free elements of Gamma) start at a weighted least-squares fit to the family's
    working response (y itself for the Gaussian family, the empirical link for the binomial ones)
    plus two standard errors of noise; sigma_y at the residual sd times exp(N(0, 0.5^2)); the
    group and factor standard deviations at the spread of the group mean residuals times
    exp(N(0, 1)); the deviations and factor effects at those scales times N(0, 1). ``init``
    overrides ``beta``, ``sigma_y``, ``sigma_alpha`` (K = 1) or ``Sigma`` (K > 1).
    """
    d, C, K = model.data, streams.chains, model.K
    p, F = model.p, model.free_idx.size
    fam = model.family
    z0, info = fam.working_response(model.Y[0], model.trials)
    z0 = z0 - model.offset
    D = model.S_design[:, : p + F]
    sw = np.sqrt(info)
    theta_hat, *_ = np.linalg.lstsq(D * sw[:, None], z0 * sw, rcond=None)
    resid = z0 - D @ theta_hat
    s2 = float(resid @ resid) / max(d.n - D.shape[1], 1) if fam.fixed_weights else 1.0
    cov = s2 * np.linalg.pinv((D * info[:, None]).T @ D)
    root = np.linalg.cholesky(cov + 1e-12 * np.eye(len(cov)) * max(np.trace(cov), 1e-12))
    n_j = d.stats.n_j
    means = np.bincount(d.group, resid, d.n_groups)[n_j > 0] / n_j[n_j > 0]
    spread = max(float(np.std(means)), 0.1 * np.sqrt(s2))
    n_f, n_eff, J = len(model.factors), model.n_small - p - F, d.n_groups
    sizes = [p + F, 1, K, n_f, n_eff, J * K]
    z = np.stack([g.standard_normal(sum(sizes)) for g in streams.init])
    parts = np.split(z, np.cumsum(sizes)[:-1], axis=1)
    # Stacked products: each chain's rounding does not depend on the number of chains.
    theta = theta_hat + 2.0 * np.matmul(parts[0][:, None, :], root.T)[:, 0]
    sd = spread * np.exp(parts[2])
    sigma_f = spread * np.exp(parts[3])
    levels = [len(f.levels) for f in model.factors]
    effects = np.repeat(sigma_f, levels, axis=1) * parts[4]
    Sigma = sd[:, :, None] * np.eye(K) * sd[:, None, :]
    sigma_y = np.sqrt(s2) * np.exp(0.5 * parts[1][:, 0])
    beta = theta[:, :p]
    for name, value in (init or {}).items():
        shapes = {"beta": (p,), "sigma_alpha": (), "Sigma": (K, K)}
        shapes.update({name: () for name in fam.dispersion})
        allowed = ["beta", *fam.dispersion, "sigma_alpha" if K == 1 else "Sigma"]
        if name not in allowed:
            raise ValueError(f"init: unknown parameter {name!r}; expected one of {allowed}")
        try:
            v = np.array(np.broadcast_to(np.asarray(value, float), (C, *shapes[name])))
        except ValueError as exc:
            raise ValueError(f"init: {name} must have shape {shapes[name]}") from exc
        if name == "beta":
            beta = v
        elif name in fam.dispersion:
            sigma_y = v
        elif name == "sigma_alpha":
            Sigma = (v**2)[:, None, None]
        else:
            Sigma = v
    if np.any(sigma_y <= 0) or np.any(np.linalg.eigvalsh(Sigma) <= 0):
        raise ValueError("init: scales must be positive and Sigma positive definite")
    dev = parts[5].reshape(C, J, K) * np.sqrt(np.diagonal(Sigma, axis1=1, axis2=2))[:, None, :]
    aux_Sigma = np.ones(C) if K == 1 else model.priors.Sigma.initial_aux(Sigma)
    state = MixedState(
        small=np.concatenate([beta, theta[:, p:], effects], axis=1),
        dev=dev,
        Sigma=Sigma,
        aux_Sigma=aux_Sigma,
        sigma_f=sigma_f,
        aux_f=np.ones((C, n_f)),
        sigma_y=sigma_y,
        aux_y=np.ones(C),
    )
    latent = fam.initial_latent(full_predictor(state, model), model.Y[0], sigma_y)
    return state if latent is None else state._replace(latent=latent)


def mixed_record(model: MixedModel, keep_alpha: np.ndarray):
    """Return ``record(state) -> dict`` of the arrays a kept draw stores (the driver's storage)."""

    def record(state: MixedState) -> dict[str, np.ndarray]:
        alpha = model.group_coefficients(state.small, state.dev)[:, keep_alpha]
        out = {
            "alpha": alpha,
            "small": state.small,
            "Sigma": state.Sigma,
            "sigma_f": state.sigma_f,
            "lp": log_joint_mixed(state, model),
        }
        for name in model.family.dispersion:
            out[name] = state.sigma_y
        return out

    return record


def mixed_var_names(model: MixedModel) -> list[str]:
    """Posterior variables shared by the Gibbs output and the twin."""
    names = ["alpha", *(["beta"] if model.p else []), "gamma"]
    if model.K > 1:
        names += ["gamma_slope", "sigma_alpha", "rho_alpha"]
    else:
        names += ["sigma_alpha"]
    for f in model.factors:
        names += [f"{f.name}_effect", f"sigma_{f.name}"]
    return names + list(model.family.dispersion)


def _row_eta(model: MixedModel, small: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """eta_i from beta, the crossed factors' effects and the group coefficients (..., J, K)."""
    d = model.data
    eta = np.einsum("ik,...ik->...i", model.Z, alpha[..., d.group, :])
    if model.p:
        eta = eta + chain_dot(model.beta(small), model.X.T)
    for k, f in enumerate(model.factors):
        if not f.nested:
            eta = eta + model.factor_effects(small, k)[..., f.codes]
    return eta


def mixed_inference_data(
    model: MixedModel,
    store: dict[str, np.ndarray],
    keep_alpha: np.ndarray,
    attrs: dict[str, Any],
    *,
    log_likelihood: bool = True,
    predictive_rngs=None,
):
    """Build the InferenceData of a run of the general kernel (names as the other structures')."""
    import arviz as az

    d, K = model.data, model.K
    small = np.asarray(store["small"], float)
    Sigma = np.asarray(store["Sigma"], float)
    gamma = model.gamma_matrix(small)
    effects = model.effect_names
    alpha = store["alpha"] if K > 1 else store["alpha"][..., 0]
    posterior: dict[str, Any] = {"alpha": alpha, "gamma": gamma[..., 0]}
    if model.p:
        posterior["beta"] = model.beta(small)
    coords: dict[str, Any] = {
        d.group_dim: [d.group_names[k] for k in keep_alpha],
        "x_coef": model.fixed_names,
        "u_coef": list(d.u_names),
        OBS_DIM: np.arange(d.n),
    }
    dims: dict[str, list[str]] = {
        "alpha": [d.group_dim, "effect"] if K > 1 else [d.group_dim],
        "beta": ["x_coef"],
        "gamma": ["u_coef"],
        "y": [OBS_DIM],
    }
    if K > 1:
        posterior["gamma_slope"] = gamma[..., model.intercept_row, 1:]
        posterior["sigma_alpha"] = standard_deviations(Sigma)
        posterior["rho_alpha"] = correlations(Sigma)
        coords.update(effect=effects, effect_pair=effect_pairs(effects), slope=list(model.slopes))
        dims.update(gamma_slope=["slope"], sigma_alpha=["effect"], rho_alpha=["effect_pair"])
    else:
        posterior["sigma_alpha"] = np.sqrt(Sigma[..., 0, 0])
    for k, f in enumerate(model.factors):
        posterior[f"{f.name}_effect"] = model.factor_effects(small, k)
        posterior[f"sigma_{f.name}"] = store["sigma_f"][..., k]
        coords[f.name] = list(f.levels)
        dims[f"{f.name}_effect"] = [f.name]
    for name in model.family.dispersion:
        posterior[name] = store[name]
    groups: dict[str, Any] = {}
    if (log_likelihood or predictive_rngs is not None) and keep_alpha.size == d.n_groups:
        eta = _row_eta(model, small, np.asarray(store["alpha"], float)) + model.offset
        disp = model.family.dispersion
        sigma_y = np.asarray(store[disp[0]], float)[..., None] if disp else None
        if log_likelihood:
            ll = model.family.loglik(eta, d.y, model.trials, sigma_y)
            groups["log_likelihood"] = {"y": ll}
        if predictive_rngs is not None:
            groups["posterior_predictive"] = {
                "y": model.family.simulate(predictive_rngs, eta, model.trials, sigma_y)
            }
    constant: dict[str, Any] = {"group": d.group, "X": d.X}
    if d.offset is not None:
        constant["offset"] = d.offset
    const_dims = {"group": [OBS_DIM], "X": [OBS_DIM, "x_all"], "offset": [OBS_DIM]}
    coords["x_all"] = list(d.x_names)
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
