"""Geweke's (2004) joint-distribution test of a Gibbs sampler.

Two simulators of the joint distribution p(theta, y) of a model with proper priors:

- *marginal-conditional*: theta ~ p(theta), then y ~ p(y | theta), independently M times;
- *successive-conditional*: alternate one Gibbs sweep theta ~ K(theta | y) and a fresh
  y ~ p(y | theta), in many chains at once (every chain has its own y).

If the sweep leaves p(theta | y) invariant, both simulate the same joint distribution, so the means
of test functions g(theta, y) (first and second moments, cross terms of parameters and data)
agree. Each difference is scaled by its standard error, with the successive-conditional one
taken from ArviZ's autocorrelation-aware MCSE, and Holm's procedure over all functions decides at
a stated family-wise level. A wrong full conditional (a wrong degree of freedom, a plug-in variance)
shifts the successive-conditional means and fails the test.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from gibbs.data import HierarchicalData
from gibbs.driver import Progress, run
from gibbs.families import normalize_family, success_probability
from gibbs.kernels.binomial import BinomialModel, BinomialState
from gibbs.kernels.gaussian import GaussianModel, State
from gibbs.priors import (
    HalfNormal,
    HalfStudentT,
    InverseGamma,
    Normal,
    Priors,
)
from gibbs.streams import ChainStreams, chain_seed_sequences
from gibbs.structures.base import Recorder
from validation.compare import holm_reject

__all__ = [
    "GewekeResult",
    "compare_means",
    "draw_location",
    "draw_prior",
    "draw_scale",
    "geweke_test",
    "run_geweke",
    "simulate_y",
    "test_functions",
]


def draw_scale(prior, rng: np.random.Generator, size: int) -> np.ndarray:
    """Draw ``size`` standard deviations from a proper scale prior."""
    if isinstance(prior, InverseGamma):
        return np.sqrt(prior.beta / rng.gamma(prior.alpha, 1.0, size))
    if isinstance(prior, HalfStudentT):
        return prior.sigma * np.abs(rng.standard_t(prior.nu, size))
    if isinstance(prior, HalfNormal):
        return prior.sigma * np.abs(rng.standard_normal(size))
    raise ValueError(f"the Geweke test needs proper priors; {prior!r} is improper")


def draw_location(prior, rng: np.random.Generator, size: int, dim: int) -> np.ndarray:
    """Draw ``size`` coefficient vectors of length ``dim`` from a normal location prior."""
    if not isinstance(prior, Normal):
        raise ValueError(f"the Geweke test needs proper priors; {prior!r} is improper")
    mu, sigma = prior._params(dim)
    return mu + sigma * rng.standard_normal((size, dim))


def draw_prior(
    priors: Priors,
    data: HierarchicalData,
    rng: np.random.Generator,
    size: int,
    family: str = "gaussian",
) -> State | BinomialState:
    """Draw ``size`` parameter sets from the priors (proper priors only)."""
    gamma = draw_location(priors.gamma, rng, size, data.q)
    sigma_alpha = draw_scale(priors.sigma_alpha, rng, size)
    alpha = gamma @ data.U.T + sigma_alpha[:, None] * rng.standard_normal((size, data.n_groups))
    if family != "gaussian":
        return BinomialState(
            alpha=alpha,
            beta=draw_location(priors.beta, rng, size, data.p),
            gamma=gamma,
            sigma_alpha=sigma_alpha,
            aux_alpha=np.ones(size),
            w=np.ones((size, data.n)),
            r=np.zeros((size, data.n)),
        )
    return State(
        alpha=alpha,
        beta=draw_location(priors.beta, rng, size, data.p),
        gamma=gamma,
        sigma_y=draw_scale(priors.sigma_y, rng, size),
        sigma_alpha=sigma_alpha,
        aux_y=np.ones(size),
        aux_alpha=np.ones(size),
    )


def simulate_y(
    state: State | BinomialState,
    data: HierarchicalData,
    rng: np.random.Generator,
    family: str = "gaussian",
) -> np.ndarray:
    """Draw one outcome vector per chain from the likelihood at ``state``, shape (chains, n)."""
    mu = state.alpha[:, data.group] + state.beta @ data.X.T
    if family != "gaussian":
        trials = data.binomial_trials.astype(np.int64)
        return rng.binomial(trials, success_probability(family, mu)).astype(float)
    return mu + state.sigma_y[:, None] * rng.standard_normal(mu.shape)


def test_functions(state: State, Y: np.ndarray, U: np.ndarray) -> dict[str, np.ndarray]:
    """The functions g(theta, y) whose means the test compares, one value per chain.

    Their variances must be finite under the joint distribution: the highest moments used are
    sigma^4 (through sigma^2 and mean(y^2)), hence the requirement nu > 4 for half-t priors.
    """
    y_mean = Y.mean(axis=1)
    eta = (state.alpha - state.gamma @ U.T) / state.sigma_alpha[:, None]
    g = {
        "gamma[0]": state.gamma[:, 0],
        "sigma_alpha": state.sigma_alpha,
        "alpha[0]": state.alpha[:, 0],
        "gamma[0]^2": state.gamma[:, 0] ** 2,
        "sigma_alpha^2": state.sigma_alpha**2,
        "gamma[0]*sigma_alpha": state.gamma[:, 0] * state.sigma_alpha,
        "mean(y)": y_mean,
        "mean(y^2)": np.mean(Y * Y, axis=1),
        "gamma[0]*mean(y)": state.gamma[:, 0] * y_mean,
        "sum(eta^2)": np.sum(eta * eta, axis=1),  # chi^2_J under the prior: all moments finite
    }
    if "sigma_y" in state._fields:
        g["sigma_y"] = state.sigma_y
        g["sigma_y^2"] = state.sigma_y**2
    if state.beta.shape[1]:
        g["beta[0]"] = state.beta[:, 0]
        g["beta[0]^2"] = state.beta[:, 0] ** 2
        g["beta[0]*mean(y)"] = state.beta[:, 0] * y_mean
    return g


@dataclass
class GewekeResult:
    """Outcome of :func:`geweke_test`.

    Attributes
    ----------
    passed : bool
        No function rejected by Holm's procedure at ``level``.
    table : DataFrame
        Per function: both means, the standard errors, z and p-value, Holm rejection.
    level : float
        Family-wise level.
    """

    passed: bool
    table: pd.DataFrame
    level: float

    def __str__(self) -> str:
        worst = self.table["z"].abs().max()
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"Geweke joint-distribution test: {verdict} ({len(self.table)} functions, Holm at "
            f"{self.level:g}; max |z| = {worst:.2f})"
        )


MIN_CHAINS = 20


def geweke_test(
    data: HierarchicalData,
    priors: Priors,
    sweep: Sequence[Callable],
    *,
    chains: int = 200,
    iterations: int = 500,
    burn: int = 50,
    marginal_draws: int = 100_000,
    seed: int = 0,
    level: float = 0.01,
    family: str = "gaussian",
) -> GewekeResult:
    """Run Geweke's joint-distribution test of ``sweep`` on the design of ``data``.

    Parameters
    ----------
    data : HierarchicalData
        Supplies X, the groups and U (its y is not used).
    priors : Priors
        Proper priors (the test simulates from them).
    sweep : sequence of blocks
        The Gibbs sweep under test (e.g. ``gibbs.kernels.SCHEMES["collapsed"]`` or a mutant's).
    chains, iterations, burn : int
        Successive-conditional chains, iterations kept per chain, and iterations discarded.
    marginal_draws : int
        Independent marginal-conditional draws.
    seed : int
        Master seed (both simulators and the sampler's streams derive from it).
    level : float
        Family-wise error level.
    family : {"gaussian", "logistic", "probit"}
        Outcome family of the model (and of ``sweep``).

    Returns
    -------
    GewekeResult
    """
    family = normalize_family(family)
    if not priors.is_proper(family):
        raise ValueError("the Geweke test needs proper priors on every parameter")
    for name in ("sigma_y", "sigma_alpha") if family == "gaussian" else ("sigma_alpha",):
        prior = getattr(priors, name)
        # The test functions include sigma^2 and mean(y^2): their standard errors need a finite
        # fourth moment of sigma, which a half-t has only for nu > 4. Use SBC for heavier tails.
        if isinstance(prior, HalfStudentT) and prior.nu <= 4:
            raise ValueError(
                f"prior on {name}: HalfStudentT(nu={prior.nu}) has no finite fourth moment, "
                "which the Geweke test functions need; use SBC for it"
            )
    if family == "gaussian":
        base = GaussianModel(data, priors)
    else:
        # The model only borrows the design: its outcomes are replaced chain by chain.
        base = BinomialModel(data.replace(y=np.zeros(data.n)), priors, family)
    return run_geweke(
        base,
        sweep,
        lambda rng, size: draw_prior(priors, data, rng, size, family),
        lambda state, rng: simulate_y(state, data, rng, family),
        lambda state, Y: test_functions(state, Y, data.U),
        chains=chains,
        iterations=iterations,
        burn=burn,
        marginal_draws=marginal_draws,
        seed=seed,
        level=level,
    )


# Whether the successive-conditional loop reports progress on stderr (the geweke command sets
# it; the batteries and tests run silently). A context variable, so that no signature of the
# per-kernel Geweke functions changes.
_SHOW_PROGRESS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "geweke_progress", default=False
)


@contextlib.contextmanager
def progress_shown(enabled: bool = True) -> Iterator[None]:
    """Within the block, Geweke's successive-conditional simulator reports its progress."""
    token = _SHOW_PROGRESS.set(enabled)
    try:
        yield
    finally:
        _SHOW_PROGRESS.reset(token)


def run_geweke(
    base,
    sweep: Sequence[Callable],
    draw: Callable,
    simulate: Callable,
    functions: Callable,
    *,
    chains: int,
    iterations: int,
    burn: int,
    marginal_draws: int,
    seed: int,
    level: float,
) -> GewekeResult:
    """Geweke's test for any model: its prior and data simulators and its test functions.

    Parameters
    ----------
    base : model
        A kernel model whose ``with_outcomes(Y)`` gives every chain its own outcomes.
    sweep : sequence of blocks
        The sweep under test.
    draw : callable
        ``draw(rng, size)``: parameter states from the prior.
    simulate : callable
        ``simulate(state, rng)``: outcomes, one row per parameter set.
    functions : callable
        ``functions(state, Y)``: dict of test-function values, one per parameter set.
    chains, iterations, burn, marginal_draws, seed, level
        As in :func:`geweke_test`.
    """
    if chains < MIN_CHAINS:
        # The successive-conditional chains start from independent prior draws; a handful of
        # long, slowly mixing chains has an MCSE that understates the error (false alarms).
        raise ValueError(
            f"the Geweke test needs at least {MIN_CHAINS} successive-conditional chains (got "
            f"{chains}; default 200): its standard errors assume many independent starts"
        )
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    mc_ss, sc_ss, stream_ss = np.random.SeedSequence(seed).spawn(3)
    mc_rng, sc_rng = np.random.default_rng(mc_ss), np.random.default_rng(sc_ss)
    theta = draw(mc_rng, marginal_draws)
    g_mc = functions(theta, simulate(theta, mc_rng))
    streams = ChainStreams(chain_seed_sequences(stream_ss, chains)[1])
    state = draw(sc_rng, chains)
    outcomes = [simulate(state, sc_rng)]

    def refresh(state, model):
        # Successive-conditional: a fresh y given the new theta, and the model that holds it.
        outcomes[0] = simulate(state, sc_rng)
        return base.with_outcomes(outcomes[0])

    traces, _, _ = run(
        base.with_outcomes(outcomes[0]),
        sweep,
        state,
        streams,
        draws=iterations,
        tune=burn,
        thin=1,
        recorder=Recorder(record=lambda st: functions(st, outcomes[0]), float_names=()),
        refresh=refresh,
        progress=Progress(
            burn + iterations,
            f"Geweke (successive-conditional, {chains} chains)",
            _SHOW_PROGRESS.get(),
        ),
    )
    return compare_means(g_mc, traces, level)


def compare_means(
    g_mc: dict[str, np.ndarray], traces: dict[str, np.ndarray], level: float
) -> GewekeResult:
    """Compare marginal-conditional means with successive-conditional ones, Holm at ``level``.

    Parameters
    ----------
    g_mc : dict
        Independent draws of every test function (marginal-conditional simulator).
    traces : dict
        Traces (chains, iterations) of the same functions (successive-conditional simulator);
        their standard errors are ArviZ's autocorrelation-aware MCSE.
    level : float
        Family-wise error level.
    """
    import arviz as az
    import xarray as xr

    from validation.compare import without_numba

    dataset = xr.Dataset({k: (("chain", "draw"), v) for k, v in traces.items()})
    with without_numba():
        mcse = az.mcse(dataset, method="mean")
    rows = []
    for name, values in traces.items():
        mc = g_mc[name]
        se_mc = mc.std(ddof=1) / np.sqrt(mc.size)
        se_sc = float(mcse[name])
        z = (mc.mean() - values.mean()) / np.sqrt(se_mc**2 + se_sc**2)
        rows.append(
            {
                "function": name,
                "marginal_conditional": mc.mean(),
                "successive_conditional": values.mean(),
                "se_mc": se_mc,
                "mcse_sc": se_sc,
                "z": z,
                "p": 2 * sps.norm.sf(abs(z)) if np.isfinite(z) else 0.0,
            }
        )
    table = pd.DataFrame(rows).set_index("function")
    table["reject"] = holm_reject(table["p"].to_numpy(), level)
    return GewekeResult(passed=not table["reject"].any(), table=table, level=level)
