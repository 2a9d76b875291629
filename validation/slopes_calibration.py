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
from types import SimpleNamespace

import numpy as np

from gibbs.covariance import HuangWand, InverseWishart, correlations, standard_deviations
from gibbs.data import HierarchicalData
from gibbs.kernels.slopes import SlopesModel, SlopesState
from gibbs.priors import HalfStudentT
from gibbs.slopes import (
    DEFAULT_SLOPES_SCHEME,
    SLOPES_SCHEMES,
    SlopesPriors,
    effect_pairs,
    initial_state_slopes,
)
from validation.geweke import GewekeResult, draw_location, draw_scale, run_geweke
from validation.sbc import BatchParts, SBCResult, run_sbc_parts

__all__ = [
    "check_geweke_priors",
    "draw_prior_slopes",
    "geweke_slopes",
    "sbc_slopes",
    "simulate_y_slopes",
    "slopes_quantity_names",
    "slopes_sbc_parts",
    "slopes_test_functions",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


def draw_prior_slopes(model: SlopesModel, rng: np.random.Generator, size: int) -> SlopesState:
    """Draw ``size`` parameter sets from the (proper) priors of ``model``."""
    pr, d, K = model.priors, model.data, model.K
    free = draw_location(pr.gamma, rng, size, model.free_idx.size)
    gamma = model.scatter_gamma(free)
    Sigma, aux = pr.Sigma.draw_prior(rng, size, K)
    means = np.einsum("jl,clk->cjk", d.U, gamma)
    noise = rng.standard_normal((size, d.n_groups, K))
    alpha = means + np.einsum("cab,cjb->cja", np.linalg.cholesky(Sigma), noise)
    return SlopesState(
        alpha=alpha,
        beta=draw_location(pr.beta, rng, size, model.p),
        gamma=gamma,
        sigma_y=draw_scale(pr.sigma_y, rng, size),
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
    # Sigma through its standard deviations, log variances and correlations: Sigma_kk^2 has an
    # infinite variance under IW(6, I) (Sigma_kk ~ IG(2.5, 1/2) for K = 2), so its z-score has
    # no normal limit and a slowly mixing correct chain fails on it; these have finite moments
    # of every order the test needs under any prior that passes _check_moments.
    sd = standard_deviations(state.Sigma)
    for k, name in enumerate(model.effect_names):
        log_var = np.log(state.Sigma[:, k, k])
        g[f"sd[{name}]"] = sd[:, k]
        g[f"log Sigma[{name}]"] = log_var
        g[f"log Sigma[{name}]^2"] = log_var**2
        if k:
            g[f"gamma_slope[{name}]"] = state.gamma[:, model.intercept_row, k]
            corr = state.Sigma[:, 0, k] / (sd[:, 0] * sd[:, k])
            g[f"corr[Intercept,{name}]"] = corr
            g[f"corr[Intercept,{name}]^2"] = corr**2
            g[f"alpha[0,{name}]*mean(y)"] = state.alpha[:, 0, k] * y_mean
    if model.p:
        g["beta[0]"] = state.beta[:, 0]
        g["beta[0]*mean(y)"] = state.beta[:, 0] * y_mean
    return g


def check_geweke_priors(priors: SlopesPriors, K: int) -> None:
    """Raise ``ValueError`` if a test function of :func:`slopes_test_functions` lacks a variance.

    mean(y^2) holds alpha_jk^2, whose variance needs E[Sigma_kk^2]: under IW(nu, Psi) Sigma_kk is
    inverse-gamma with shape (nu - K + 1) / 2, so nu > K + 3; under Huang and Wand's prior
    sqrt(Sigma_kk) is half-t(nu), so nu > 4. sigma_y^2 needs the same of sigma_y (half-t nu > 4).
    """
    Sigma, sigma_y = priors.Sigma, priors.sigma_y
    if isinstance(Sigma, InverseWishart) and not Sigma.df(K) > K + 3:
        raise ValueError(
            f"prior on Sigma: InverseWishart(nu={Sigma.df(K):g}) for K = {K} gives Sigma_kk no "
            f"finite second moment, which the Geweke test functions need (nu > K + 3 = {K + 3}); "
            "use SBC for it"
        )
    if isinstance(Sigma, HuangWand) and not Sigma.nu > 4:
        raise ValueError(
            f"prior on Sigma: HuangWand(nu={Sigma.nu:g}) gives the standard deviations no finite "
            "fourth moment, which the Geweke test functions need (nu > 4); use SBC for it"
        )
    if isinstance(sigma_y, HalfStudentT) and not sigma_y.nu > 4:
        raise ValueError(
            f"prior on sigma_y: HalfStudentT(nu={sigma_y.nu:g}) has no finite fourth moment, "
            "which the Geweke test functions need; use SBC for it"
        )


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
    default scheme. Priors must be proper, and light-tailed enough that every test function has
    a finite variance (:func:`check_geweke_priors`).
    """
    base = SlopesModel(data, tuple(slopes), priors)
    check_geweke_priors(priors, base.K)
    return run_geweke(
        base,
        sweep or SLOPES_SCHEMES[DEFAULT_SLOPES_SCHEME],
        lambda rng, size: draw_prior_slopes(base, rng, size),
        lambda state, rng: simulate_y_slopes(state, base, rng),
        lambda state, Y: slopes_test_functions(state, Y, base),
        chains=chains,
        iterations=iterations,
        burn=burn,
        marginal_draws=marginal_draws,
        seed=seed,
        level=level,
    )


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
    parts = slopes_sbc_parts(data, slopes, priors)
    from gibbs.spec import specify

    return run_sbc_parts(
        specify(data, priors=priors, slopes=list(slopes)),
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


def slopes_sbc_parts(data: HierarchicalData, slopes: Sequence[str], priors) -> BatchParts:
    """Return the SBC callables of the varying-slopes kernel (twin posteriors as states too)."""
    base = SlopesModel(data, tuple(slopes), priors)

    def from_posterior(post) -> SimpleNamespace:
        def get(name):
            v = np.asarray(post[name].values, float)
            return v.reshape(-1, *v.shape[2:])

        size = get("sigma_y").shape[0]
        K, L = base.K, data.q
        gamma = np.zeros((size, L, K))
        gamma[..., 0] = get("gamma")
        gamma[:, base.intercept_row, 1:] = get("gamma_slope")
        sd = get("sigma_alpha")
        corr = np.broadcast_to(np.eye(K), (size, K, K)).copy()
        rows, cols = np.tril_indices(K, -1)
        corr[:, rows, cols] = corr[:, cols, rows] = get("rho_alpha")
        beta = get("beta") if base.p else np.zeros((size, 0))
        Sigma = sd[:, :, None] * corr * sd[:, None, :]
        return SimpleNamespace(
            alpha=get("alpha"), beta=beta, gamma=gamma, sigma_y=get("sigma_y"), Sigma=Sigma
        )

    return BatchParts(
        base=base,
        sweep=SLOPES_SCHEMES[DEFAULT_SLOPES_SCHEME],
        draw=lambda rng, size: draw_prior_slopes(base, rng, size),
        simulate=lambda state, rng: simulate_y_slopes(state, base, rng),
        start=lambda y, streams: initial_state_slopes(
            SlopesModel(data.replace(y=y), tuple(slopes), priors), streams
        ),
        flatten=lambda st: _flat(base, st.alpha, st.beta, st.gamma, st.sigma_y, st.Sigma),
        loglik=lambda st, Y: _loglik(base, st.alpha, st.beta, st.sigma_y, Y),
        names=slopes_quantity_names(base),
        from_posterior=from_posterior,
    )
