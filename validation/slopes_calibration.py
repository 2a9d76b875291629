"""Geweke and SBC batteries for the varying-slopes model (:mod:`gibbs.slopes`).

The same two tests as for the varying-intercept model (:mod:`validation.geweke`,
:mod:`validation.sbc`), with the model's own prior simulator, data simulator and test functions:

- :func:`geweke_slopes`: marginal-conditional against successive-conditional means of g(theta, y),
  MCSE-scaled, Holm over all functions;
- :func:`sbc_slopes`: ranks of every true alpha_jk, beta, Gamma element, sigma_y, standard
  deviation and correlation of Sigma, and the log-likelihood, among ESS-thinned posterior draws;
  every replication's chains run in one vectorised batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from gibbs.covariance import correlations, standard_deviations
from gibbs.data import HierarchicalData
from gibbs.kernels.slopes import SlopesModel, SlopesState
from gibbs.priors import HalfNormal, HalfStudentT, InverseGamma, Normal
from gibbs.slopes import (
    DEFAULT_SLOPES_SCHEME,
    SLOPES_SCHEMES,
    SlopesPriors,
    effect_pairs,
    initial_state_slopes,
)
from gibbs.streams import ChainStreams, chain_seed_sequences
from validation.geweke import GewekeResult, compare_means
from validation.sbc import SBCResult, _ranks, uniformity_test

__all__ = [
    "draw_prior_slopes",
    "geweke_slopes",
    "sbc_slopes",
    "simulate_y_slopes",
    "slopes_quantity_names",
    "slopes_test_functions",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


def _draw_scale(prior, rng, size):
    if isinstance(prior, InverseGamma):
        return np.sqrt(prior.beta / rng.gamma(prior.alpha, 1.0, size))
    if isinstance(prior, HalfStudentT):
        return prior.sigma * np.abs(rng.standard_t(prior.nu, size))
    if isinstance(prior, HalfNormal):
        return prior.sigma * np.abs(rng.standard_normal(size))
    raise ValueError(f"simulation needs proper priors; {prior!r} is improper")


def _draw_location(prior, rng, size, dim):
    if not isinstance(prior, Normal):
        raise ValueError(f"simulation needs proper priors; {prior!r} is improper")
    mu, sigma = prior._params(dim)
    return mu + sigma * rng.standard_normal((size, dim))


def draw_prior_slopes(model: SlopesModel, rng: np.random.Generator, size: int) -> SlopesState:
    """Draw ``size`` parameter sets from the (proper) priors of ``model``."""
    pr, d, K = model.priors, model.data, model.K
    free = _draw_location(pr.gamma, rng, size, model.free_idx.size)
    gamma = model.scatter_gamma(free)
    Sigma, aux = pr.Sigma.draw_prior(rng, size, K)
    means = np.einsum("jl,clk->cjk", d.U, gamma)
    noise = rng.standard_normal((size, d.n_groups, K))
    alpha = means + np.einsum("cab,cjb->cja", np.linalg.cholesky(Sigma), noise)
    return SlopesState(
        alpha=alpha,
        beta=_draw_location(pr.beta, rng, size, model.p),
        gamma=gamma,
        sigma_y=_draw_scale(pr.sigma_y, rng, size),
        Sigma=Sigma,
        aux_y=np.ones(size),
        aux_Sigma=aux,
    )


def simulate_y_slopes(
    state: SlopesState, model: SlopesModel, rng: np.random.Generator
) -> np.ndarray:
    """Draw y ~ p(y | theta) for every parameter set, shape (size, n)."""
    mu = model.mean(state)
    return mu + state.sigma_y[:, None] * rng.standard_normal(mu.shape)


def slopes_test_functions(
    state: SlopesState, Y: np.ndarray, model: SlopesModel
) -> dict[str, np.ndarray]:
    """Return the functions g(theta, y) whose means Geweke's test compares, one per chain."""
    y_mean = Y.mean(axis=1)
    r = state.alpha - np.einsum("jl,clk->cjk", model.data.U, state.gamma)
    eta2 = np.einsum("cja,cab,cjb->c", r, np.linalg.inv(state.Sigma), r)  # chi^2_(J K)
    g = {
        "gamma[0]": state.gamma[:, 0, 0],
        "gamma[0]^2": state.gamma[:, 0, 0] ** 2,
        "sigma_y": state.sigma_y,
        "sigma_y^2": state.sigma_y**2,
        "alpha[0,0]": state.alpha[:, 0, 0],
        "mean(y)": y_mean,
        "mean(y^2)": np.mean(Y * Y, axis=1),
        "gamma[0]*mean(y)": state.gamma[:, 0, 0] * y_mean,
        "sum(eta^2)": eta2,
    }
    for k, name in enumerate(model.effect_names):
        g[f"Sigma[{name}]"] = state.Sigma[:, k, k]
        g[f"Sigma[{name}]^2"] = state.Sigma[:, k, k] ** 2
        if k:
            g[f"gamma_slope[{name}]"] = state.gamma[:, model.intercept_row, k]
            g[f"Sigma[Intercept,{name}]"] = state.Sigma[:, 0, k]
            g[f"alpha[0,{name}]*mean(y)"] = state.alpha[:, 0, k] * y_mean
    if model.p:
        g["beta[0]"] = state.beta[:, 0]
        g["beta[0]*mean(y)"] = state.beta[:, 0] * y_mean
    return g


def geweke_slopes(
    data: HierarchicalData,
    slopes: Sequence[str],
    priors: SlopesPriors,
    sweep: Sequence[Callable] | None = None,
    *,
    chains: int = 200,
    iterations: int = 500,
    burn: int = 50,
    marginal_draws: int = 100_000,
    seed: int = 0,
    level: float = 0.01,
) -> GewekeResult:
    """Run Geweke's joint-distribution test of a varying-slopes sweep on the design of ``data``.

    Parameters are those of :func:`validation.geweke.geweke_test`; ``sweep`` defaults to the
    default scheme. Priors must be proper with finite fourth moments (the test functions include
    Sigma_kk^2): an inverse-Wishart with nu > K + 7 or so, not a Huang-Wand prior with nu <= 8.
    """
    sweep = sweep or SLOPES_SCHEMES[DEFAULT_SLOPES_SCHEME]
    base = SlopesModel(data, tuple(slopes), priors)
    master = np.random.SeedSequence(seed)
    mc_ss, sc_ss, stream_ss = master.spawn(3)
    mc_rng, sc_rng = np.random.default_rng(mc_ss), np.random.default_rng(sc_ss)
    theta = draw_prior_slopes(base, mc_rng, marginal_draws)
    g_mc = slopes_test_functions(theta, simulate_y_slopes(theta, base, mc_rng), base)
    streams = ChainStreams(chain_seed_sequences(stream_ss, chains)[1])
    state = draw_prior_slopes(base, sc_rng, chains)
    Y = simulate_y_slopes(state, base, sc_rng)
    traces: dict[str, np.ndarray] = {}
    for it in range(burn + iterations):
        model = base.with_outcomes(Y)
        for block in sweep:
            state = block(streams, state, model)
        Y = simulate_y_slopes(state, base, sc_rng)
        if it >= burn:
            for name, value in slopes_test_functions(state, Y, base).items():
                traces.setdefault(name, np.empty((chains, iterations)))[:, it - burn] = value
    return compare_means(g_mc, traces, level)


def slopes_quantity_names(model: SlopesModel) -> list[str]:
    """Names of the quantities SBC ranks, in order."""
    d, effects = model.data, model.effect_names
    names = [f"alpha[{g},{e}]" for g in d.group_names for e in effects]
    names += [f"beta[{x}]" for x in model.fixed_names]
    names += [f"gamma[{u}]" for u in d.u_names] + [f"gamma_slope[{s}]" for s in model.slopes]
    names += ["sigma_y"] + [f"sigma_alpha[{e}]" for e in effects]
    names += [f"rho_alpha[{pair}]" for pair in effect_pairs(effects)]
    return [*names, "loglik"]


def _flat(model: SlopesModel, alpha, beta, gamma, sigma_y, Sigma) -> np.ndarray:
    lead = sigma_y.shape
    return np.concatenate(
        [
            alpha.reshape(*lead, -1),
            beta,
            gamma[..., :, 0],
            gamma[..., model.intercept_row, 1:],
            sigma_y[..., None],
            standard_deviations(Sigma),
            correlations(Sigma),
        ],
        axis=-1,
    )


def _loglik(model: SlopesModel, alpha, beta, sigma_y, y) -> np.ndarray:
    mu = np.einsum("ik,...ik->...i", model.Z, alpha[..., model.data.group, :])
    mu = mu + beta @ model.X.T
    z = (y - mu) / sigma_y[..., None]
    return np.sum(-0.5 * (_LOG_2PI + z * z) - np.log(sigma_y[..., None]), axis=-1)


def sbc_slopes(
    data: HierarchicalData,
    slopes: Sequence[str],
    priors: SlopesPriors,
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
    """Simulation-based calibration of a varying-slopes sweep, all replications in one batch.

    Replication r draws theta from the prior and y from the model with ``SeedSequence(seed,
    spawn_key=(r,))``, fits ``chains`` chains (streams from the same key), thins by the smallest
    bulk ESS and ranks every true scalar and the log-likelihood among ``n_ranks`` draws.
    Uniformity: :func:`validation.sbc.uniformity_test`.
    """
    sweep = sweep or SLOPES_SCHEMES[DEFAULT_SLOPES_SCHEME]
    base = SlopesModel(data, tuple(slopes), priors)
    seeds = [np.random.SeedSequence(seed, spawn_key=(r,)) for r in range(replications)]
    truths, Y = [], []
    for s in seeds:
        rng = np.random.default_rng(np.random.SeedSequence(s.entropy, spawn_key=(*s.spawn_key, 0)))
        theta = draw_prior_slopes(base, rng, 1)
        truths.append(theta)
        Y.append(simulate_y_slopes(theta, base, rng)[0])
    Y = np.stack(Y)
    chain_seeds = [
        np.random.SeedSequence(s.entropy, spawn_key=(*s.spawn_key, 1, c))
        for s in seeds
        for c in range(chains)
    ]
    streams = ChainStreams(chain_seeds)
    model = base.with_outcomes(np.repeat(Y, chains, axis=0))
    # Over-dispersed starts from each replication's own data.
    starts = [
        initial_state_slopes(
            SlopesModel(data.replace(y=y), tuple(slopes), priors),
            ChainStreams(chain_seeds[r * chains : (r + 1) * chains]),
        )
        for r, y in enumerate(Y)
    ]
    state = SlopesState(*[np.concatenate(parts) for parts in zip(*starts, strict=True)])
    kept = []
    for it in range(tune + draws):
        for block in sweep:
            state = block(streams, state, model)
        if it >= tune:
            kept.append(
                _flat(model, state.alpha, state.beta, state.gamma, state.sigma_y, state.Sigma)
            )
    K_all = kept[0].shape[-1]
    post = np.stack(kept, axis=1).reshape(replications, chains, draws, K_all)
    rows = []
    for r in range(replications):
        th = truths[r]
        truth = _flat(model, th.alpha[0], th.beta[0], th.gamma[0], th.sigma_y[0], th.Sigma[0])
        d = post[r]
        J, K, p = data.n_groups, base.K, base.p
        alpha = d[..., : J * K].reshape(chains, draws, J, K)
        beta = d[..., J * K : J * K + p]
        sigma_y = d[..., J * K + p + data.q + K - 1]
        ll = _loglik(base, alpha, beta, sigma_y, Y[r])
        ll_true = _loglik(base, th.alpha[0], th.beta[0], th.sigma_y[0], Y[r])
        full = np.concatenate([d, ll[..., None]], axis=-1)
        ranks, _ = _ranks(np.append(truth, ll_true), full, n_ranks)
        rows.append(ranks)
    table = pd.DataFrame(rows, columns=slopes_quantity_names(base))
    return uniformity_test(table, n_ranks, level, seed)
