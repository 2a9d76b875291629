"""Geweke and SBC batteries for the model with further grouping factors (:mod:`gibbs.factors`).

The same tests as :mod:`validation.geweke` and :mod:`validation.sbc`, with this model's prior
simulator, data simulator and test functions; SBC fits every replication's chains in one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.factors import (
    DEFAULT_FACTORS_SCHEME,
    FACTORS_SCHEMES,
    initial_state_factors,
    make_factors,
)
from gibbs.kernels.factors import FactorsModel, FactorsState
from gibbs.priors import Priors
from validation.geweke import GewekeResult, draw_location, draw_scale, run_geweke
from validation.sbc import BatchParts, SBCResult, run_sbc_parts

__all__ = [
    "draw_prior_factors",
    "factors_sbc_parts",
    "geweke_factors",
    "sbc_factors",
    "simulate_y_factors",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


def draw_prior_factors(model: FactorsModel, rng: np.random.Generator, size: int):
    """Draw ``size`` parameter sets from the (proper) priors of ``model``."""
    d, pr = model.data, model.priors
    gamma = draw_location(pr.gamma, rng, size, d.q)
    beta = draw_location(pr.beta, rng, size, d.p)
    sigma_alpha = draw_scale(pr.sigma_alpha, rng, size)
    sigma_f = np.column_stack(
        [draw_scale(pr.factor_scale(f.name), rng, size) for f in model.factors]
    )
    sd = np.repeat(sigma_f, np.diff(model.offsets), axis=1)
    effects = sd * rng.standard_normal(sd.shape)
    eta = sigma_alpha[:, None] * rng.standard_normal((size, d.n_groups))
    F = len(model.factors)
    return FactorsState(
        alpha=model.group_intercepts(gamma, effects, eta),
        eta=eta,
        beta=beta,
        gamma=gamma,
        effects=effects,
        sigma_y=draw_scale(pr.sigma_y, rng, size),
        sigma_alpha=sigma_alpha,
        sigma_f=sigma_f,
        aux_y=np.ones(size),
        aux_alpha=np.ones(size),
        aux_f=np.ones((size, F)),
    )


def simulate_y_factors(state, model: FactorsModel, rng: np.random.Generator) -> np.ndarray:
    """Draw y ~ p(y | theta) for every parameter set, shape (size, n)."""
    mu = model.row_mean(state.beta, state.alpha, state.effects)
    return mu + state.sigma_y[:, None] * rng.standard_normal(mu.shape)


def _test_functions(state, Y, model: FactorsModel) -> dict[str, np.ndarray]:
    y_mean = Y.mean(axis=1)
    g = {
        "gamma[0]": state.gamma[:, 0],
        "gamma[0]^2": state.gamma[:, 0] ** 2,
        "sigma_y^2": state.sigma_y**2,
        "sigma_alpha^2": state.sigma_alpha**2,
        "alpha[0]": state.alpha[:, 0],
        "mean(y)": y_mean,
        "mean(y^2)": np.mean(Y * Y, axis=1),
        "gamma[0]*mean(y)": state.gamma[:, 0] * y_mean,
        "sum(eta^2)/sigma_alpha^2": np.sum(state.eta**2, axis=1) / state.sigma_alpha**2,
    }
    if model.data.p:
        g["beta[0]"] = state.beta[:, 0]
        g["beta[0]*mean(y)"] = state.beta[:, 0] * y_mean
    for k, f in enumerate(model.factors):
        b = model.factor_effects(state.effects, k)
        g[f"sigma_{f.name}^2"] = state.sigma_f[:, k] ** 2
        g[f"{f.name}_effect[0]"] = b[:, 0]
        g[f"{f.name}_effect[0]^2"] = b[:, 0] ** 2
    return g


def geweke_factors(
    data: HierarchicalData,
    factors: Mapping[str, Any],
    priors: Priors,
    sweep: Sequence[Callable] | None = None,
    *,
    chains: int = 200,
    iterations: int = 500,
    burn: int = 50,
    marginal_draws: int = 100_000,
    seed: int = 0,
    level: float = 0.01,
) -> GewekeResult:
    """Run Geweke's joint-distribution test of a sweep on the design of ``data`` and ``factors``.

    Parameters as :func:`validation.geweke.geweke_test`; proper priors with finite fourth
    moments on every scale (the functions include variances).
    """
    base = FactorsModel(data, make_factors(data, factors), priors)
    return run_geweke(
        base,
        sweep or FACTORS_SCHEMES[DEFAULT_FACTORS_SCHEME],
        lambda rng, size: draw_prior_factors(base, rng, size),
        lambda state, rng: simulate_y_factors(state, base, rng),
        lambda state, Y: _test_functions(state, Y, base),
        chains=chains,
        iterations=iterations,
        burn=burn,
        marginal_draws=marginal_draws,
        seed=seed,
        level=level,
    )


def _flat(state_like: dict[str, np.ndarray]) -> np.ndarray:
    parts = [state_like[k] for k in ("alpha", "beta", "gamma", "effects")]
    scales = [state_like["sigma_y"][..., None], state_like["sigma_alpha"][..., None]]
    return np.concatenate([*parts, *scales, state_like["sigma_f"]], axis=-1)


def _quantities(model: FactorsModel) -> list[str]:
    d = model.data
    names = [f"alpha[{g}]" for g in d.group_names] + [f"beta[{x}]" for x in d.x_names]
    names += [f"gamma[{u}]" for u in d.u_names]
    for f in model.factors:
        names += [f"{f.name}_effect[{lv}]" for lv in f.levels]
    names += ["sigma_y", "sigma_alpha"] + [f"sigma_{f.name}" for f in model.factors]
    return [*names, "loglik"]


def _loglik(model, beta, alpha, effects, sigma_y, y):
    mu = model.row_mean(beta, alpha, effects)
    z = (y - mu) / sigma_y[..., None]
    return np.sum(-0.5 * (_LOG_2PI + z * z) - np.log(sigma_y[..., None]), axis=-1)


def sbc_factors(
    data: HierarchicalData,
    factors: Mapping[str, Any],
    priors: Priors,
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
    """Simulation-based calibration of a sweep, every replication's chains in one batch.

    As :func:`validation.slopes_calibration.sbc_slopes`: ranks of every alpha_j, beta, gamma,
    factor effect, scale and the log-likelihood among ESS-thinned draws.
    """
    parts = factors_sbc_parts(data, factors, priors)
    from gibbs.spec import specify

    return run_sbc_parts(
        specify(data, priors=priors, factors=dict(factors)),
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


def factors_sbc_parts(data: HierarchicalData, factors: Mapping[str, Any], priors) -> BatchParts:
    """Return the SBC callables of the further-factors kernel (twin posteriors as states too)."""
    base = FactorsModel(data, make_factors(data, factors), priors)
    keep = ("alpha", "beta", "gamma", "effects", "sigma_y", "sigma_alpha", "sigma_f")

    def from_posterior(post) -> SimpleNamespace:
        def get(name):
            v = np.asarray(post[name].values, float)
            return v.reshape(-1, *v.shape[2:])

        size = get("sigma_y").shape[0]
        return SimpleNamespace(
            alpha=get("alpha"),
            beta=get("beta") if data.p else np.zeros((size, 0)),
            gamma=get("gamma"),
            effects=np.concatenate([get(f"{f.name}_effect") for f in base.factors], axis=1),
            sigma_y=get("sigma_y"),
            sigma_alpha=get("sigma_alpha"),
            sigma_f=np.column_stack([get(f"sigma_{f.name}") for f in base.factors]),
        )

    return BatchParts(
        base=base,
        sweep=FACTORS_SCHEMES[DEFAULT_FACTORS_SCHEME],
        draw=lambda rng, size: draw_prior_factors(base, rng, size),
        simulate=lambda state, rng: simulate_y_factors(state, base, rng),
        start=lambda y, streams: initial_state_factors(
            FactorsModel(data.replace(y=y), base.factors, priors), streams
        ),
        flatten=lambda st: _flat({k: getattr(st, k) for k in keep}),
        loglik=lambda st, Y: _loglik(base, st.beta, st.alpha, st.effects, st.sigma_y, Y),
        names=_quantities(base),
        from_posterior=from_posterior,
    )
