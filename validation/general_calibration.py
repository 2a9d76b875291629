"""Geweke and SBC batteries for every model of the general kernel (:mod:`gibbs.structures.mixed`).

The same tests as :mod:`validation.geweke` and :mod:`validation.sbc`, with one prior simulator,
one data simulator (the family's) and one set of test functions written on the kernel's state,
so that every structure x family the kernel serves gets them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from gibbs.spec import ModelSpec
from gibbs.structures.mixed import MixedModel, MixedState, full_predictor
from gibbs.structures.mixed_io import initial_state_mixed
from validation.geweke import GewekeResult, draw_location, draw_scale, run_geweke
from validation.sbc import BatchParts, SBCResult, run_sbc_parts

__all__ = [
    "draw_prior_mixed",
    "general_sbc_parts",
    "geweke_general",
    "sbc_general",
    "simulate_y_mixed",
    "state_from_posterior",
]


def draw_prior_mixed(model: MixedModel, rng: np.random.Generator, size: int) -> MixedState:
    """Draw ``size`` parameter sets from the (proper) priors of ``model``."""
    pr, d, K = model.priors, model.data, model.K
    beta = draw_location(pr.beta, rng, size, model.p)
    free = draw_location(pr.gamma, rng, size, model.free_idx.size)
    F = len(model.factors)
    sigma_f = (
        np.column_stack([draw_scale(pr.factor_scale(f.name), rng, size) for f in model.factors])
        if F
        else np.ones((size, 0))
    )
    levels = [len(f.levels) for f in model.factors]
    effects = np.repeat(sigma_f, levels, axis=1) * rng.standard_normal((size, sum(levels)))
    if K == 1:
        sigma = draw_scale(pr.sigma_alpha, rng, size)
        Sigma, aux = (sigma**2)[:, None, None], np.ones(size)
    else:
        Sigma, aux = pr.Sigma.draw_prior(rng, size, K)
    noise = rng.standard_normal((size, d.n_groups, K))
    dev = np.einsum("cab,cjb->cja", np.linalg.cholesky(Sigma), noise)
    fam = model.family
    sigma_y = draw_scale(fam.dispersion_prior(pr), rng, size) if fam.dispersion else np.ones(size)
    state = MixedState(
        small=np.concatenate([beta, free, effects], axis=1),
        dev=dev,
        Sigma=Sigma,
        aux_Sigma=aux,
        sigma_f=sigma_f,
        aux_f=np.ones((size, F)),
        sigma_y=sigma_y,
        aux_y=np.ones(size),
    )
    # The latent variables a family keeps (the Poisson's log rates), from their prior.
    return state._replace(latent=fam.draw_latent(rng, full_predictor(state, model), sigma_y))


def simulate_y_mixed(state: MixedState, model: MixedModel, rng: np.random.Generator) -> np.ndarray:
    """Draw y ~ p(y | theta) for every parameter set from the family, shape (size, n)."""
    eta = full_predictor(state, model)
    sigma_y = state.sigma_y[:, None]
    rngs = [rng] * eta.shape[0]
    return model.family.simulate(rngs, eta, model.trials, sigma_y, state.latent).astype(float)


def _test_functions(state: MixedState, Y: np.ndarray, model: MixedModel) -> dict:
    """Functions g(theta, y) with finite variance under the joint distribution, per chain."""
    y_mean = Y.mean(axis=1)
    p, K = model.p, model.K
    gamma0 = state.small[:, p]
    quad = np.einsum("cja,cab,cjb->c", state.dev, np.linalg.inv(state.Sigma), state.dev)
    g = {
        "gamma[0]": gamma0,
        "gamma[0]^2": gamma0**2,
        "e[0,0]": state.dev[:, 0, 0],
        "mean(y)": y_mean,
        "mean(y^2)": np.mean(Y * Y, axis=1),
        "gamma[0]*mean(y)": gamma0 * y_mean,
        "sum(e' Sigma^-1 e)": quad,  # chi^2 with J K degrees of freedom under the prior
    }
    for k in range(K):
        g[f"Sigma[{k},{k}]"] = state.Sigma[:, k, k]
        if k:
            g[f"Sigma[0,{k}]"] = state.Sigma[:, 0, k]
            g[f"e[0,{k}]*mean(y)"] = state.dev[:, 0, k] * y_mean
    if p:
        g["beta[0]"] = state.small[:, 0]
        g["beta[0]*mean(y)"] = state.small[:, 0] * y_mean
    for k, f in enumerate(model.factors):
        b = model.factor_effects(state.small, k)
        g[f"sigma_{f.name}^2"] = state.sigma_f[:, k] ** 2
        # The spread of log sigma_f: finite moments under any proper scale prior, and sensitive
        # to a conditional that is too concentrated (a sum over the wrong index set).
        g[f"log(sigma_{f.name})^2"] = np.log(state.sigma_f[:, k]) ** 2
        g[f"{f.name}_effect[0]"] = b[:, 0]
        g[f"{f.name}_effect[0]*mean(y)"] = b[:, 0] * y_mean
    for name in model.family.dispersion:
        g[f"{name}^2"] = state.sigma_y**2
        g[f"log({name})^2"] = np.log(state.sigma_y) ** 2
    if state.latent is not None:
        # The kept latent variables (log rates): their mean and spread about eta.
        g["mean(latent)"] = state.latent.mean(axis=1)
        g["mean(latent - eta)^2"] = np.mean((state.latent - full_predictor(state, model)) ** 2, 1)
    return g


def _base(spec: ModelSpec) -> MixedModel:
    if not isinstance(spec.model, MixedModel):
        raise ValueError(
            f"{spec.structure} x {spec.family.name} is sampled by the {spec.implementation.name} "
            "kernel; these batteries are the general kernel's (gibbs-suite data --capabilities)"
        )
    return spec.model


def geweke_general(
    spec: ModelSpec,
    sweep: Sequence[Callable] | None = None,
    *,
    chains: int = 200,
    iterations: int = 500,
    burn: int = 50,
    marginal_draws: int = 100_000,
    seed: int = 0,
    level: float = 0.01,
) -> GewekeResult:
    """Run Geweke's joint-distribution test of a sweep of the general kernel on ``spec``'s design.

    Parameters as :func:`validation.geweke.geweke_test`; ``spec`` needs proper priors with finite
    fourth moments on every scale; ``sweep`` defaults to the spec's default scheme.
    """
    base = _base(spec)
    return run_geweke(
        base,
        sweep or spec.schemes()[spec.default_scheme],
        lambda rng, size: draw_prior_mixed(base, rng, size),
        lambda state, rng: simulate_y_mixed(state, base, rng),
        lambda state, Y: _test_functions(state, Y, base),
        chains=chains,
        iterations=iterations,
        burn=burn,
        marginal_draws=marginal_draws,
        seed=seed,
        level=level,
    )


def _quantities(model: MixedModel) -> list[str]:
    d, K = model.data, model.K
    names = [f"beta[{x}]" for x in model.fixed_names]
    names += [f"gamma[{i}]" for i in range(model.free_idx.size)]
    for f in model.factors:
        names += [f"{f.name}_effect[{lv}]" for lv in f.levels]
    names += [f"e[{g},{k}]" for g in d.group_names for k in range(K)]
    names += [f"Sigma[{a},{b}]" for a in range(K) for b in range(a + 1)]
    names += [f"sigma_{f.name}" for f in model.factors]
    names += list(model.family.dispersion)
    return [*names, "loglik"]


def _flat(state: MixedState, model: MixedModel) -> np.ndarray:
    rows, cols = np.tril_indices(model.K)
    parts = [
        state.small,
        state.dev.reshape(state.dev.shape[0], -1),
        state.Sigma[:, rows, cols],
        state.sigma_f,
    ]
    if model.family.dispersion:
        parts.append(state.sigma_y[:, None])
    return np.concatenate(parts, axis=-1)


def sbc_general(
    spec: ModelSpec,
    sweep: Sequence[Callable] | None = None,
    *,
    replications: int = 200,
    seed: int = 0,
    n_ranks: int = 99,
    chains: int = 2,
    draws: int = 500,
    tune: int = 200,
    level: float = 0.01,
) -> SBCResult:
    """Simulation-based calibration of a sweep of the general kernel, chains in one batch.

    Ranks of every coefficient, effect, deviation, covariance element, scale and the
    log-likelihood among ESS-thinned draws (:func:`validation.sbc.run_sbc_batch`).
    """
    parts = general_sbc_parts(spec)
    return run_sbc_parts(
        spec,
        parts,
        sweep,
        replications=replications,
        seed=seed,
        n_ranks=n_ranks,
        chains=chains,
        draws=draws,
        tune=tune,
        level=level,
    )


def general_sbc_parts(spec: ModelSpec) -> BatchParts:
    """Return the SBC callables of a general-kernel model (twin posteriors as states too)."""
    base = _base(spec)
    return BatchParts(
        base=base,
        sweep=spec.schemes()[spec.default_scheme],
        draw=lambda rng, size: draw_prior_mixed(base, rng, size),
        simulate=lambda state, rng: simulate_y_mixed(state, base, rng),
        start=lambda y, streams: initial_state_mixed(base.with_outcomes(y[None]), streams),
        flatten=lambda st: _flat(st, base),
        loglik=lambda st, Y: _state_loglik(st, base, Y),
        names=_quantities(base),
        from_posterior=lambda post: state_from_posterior(post, base),
    )


def _state_loglik(state: MixedState, model: MixedModel, Y: np.ndarray) -> np.ndarray:
    eta = full_predictor(state, model)
    return model.family.loglik(eta, Y, model.trials, state.sigma_y[:, None]).sum(axis=-1)


def state_from_posterior(post, model: MixedModel) -> MixedState:
    """Return the kernel state at every draw of a twin posterior (chains x draws flattened)."""
    d, K = model.data, model.K

    def get(name):
        v = np.asarray(post[name].values, float)
        return v.reshape(-1, *v.shape[2:])

    size = get("gamma").shape[0]
    gamma = np.zeros((size, d.q, K))
    gamma[..., 0] = get("gamma")
    if K > 1:
        gamma[:, model.intercept_row, 1:] = get("gamma_slope")
    parts = [get("beta") if model.p else np.zeros((size, 0))]
    parts.append(gamma.reshape(size, -1)[:, model.free_idx])
    parts += [get(f"{f.name}_effect") for f in model.factors]
    small = np.concatenate(parts, axis=1)
    alpha = get("alpha")
    alpha = alpha if K > 1 else alpha[..., None]
    dev = alpha - model.group_coefficients(small, np.zeros((size, d.n_groups, K)))
    if K > 1:
        sd = get("sigma_alpha")
        corr = np.broadcast_to(np.eye(K), (size, K, K)).copy()
        rows, cols = np.tril_indices(K, -1)
        rho = get("rho_alpha")
        corr[:, rows, cols] = rho
        corr[:, cols, rows] = rho
        Sigma = sd[:, :, None] * corr * sd[:, None, :]
    else:
        Sigma = (get("sigma_alpha") ** 2)[:, None, None]
    F = len(model.factors)
    sigma_f = (
        np.column_stack([get(f"sigma_{f.name}") for f in model.factors])
        if F
        else np.ones((size, 0))
    )
    disp = model.family.dispersion
    sigma_y = get(disp[0]) if disp else np.ones(size)
    return MixedState(
        small=small,
        dev=dev,
        Sigma=Sigma,
        aux_Sigma=np.ones(size),
        sigma_f=sigma_f,
        aux_f=np.ones((size, F)),
        sigma_y=sigma_y,
        aux_y=np.ones(size),
    )
