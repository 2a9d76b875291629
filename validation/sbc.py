"""Simulation-based calibration (Talts et al. 2018; Modrak et al. 2023), resumable and distributed.

For replication r = 0..R-1 (each with its own ``SeedSequence`` child of one master seed):
draw theta from the prior, simulate y, fit with the sampler under test, thin the draws by the
measured ESS, and record the rank of each true scalar (every alpha_j, beta, gamma, sigma_y,
sigma_alpha, and the log-likelihood of the simulated data) among ``L`` kept draws. If the sampler
is right, every rank is uniform on 0..L.

Uniformity is decided per quantity by a chi-square test on binned ranks and by the ECDF-difference
test with simultaneous bands (Sailynoja, Burkner & Vehtari 2022), with Holm's procedure over all
quantities and both tests at a stated family-wise level.

Backends are engine adapters (one small class each): :class:`GibbsEngine` fits a whole chunk of
replications at once (every chain with its own simulated y, vectorised in numpy) and
:class:`PyMCEngine` fits the PyMC twin one replication at a time. Chunks run through an executor:
local processes (default) or Dask distributed. Every finished replication is written at once as a
small NetCDF file, so an interrupted run resumes where it stopped, and results do not depend on
the backend, the chunking or the number of workers.
"""

from __future__ import annotations

import math
import os
import re
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from gibbs.data import HierarchicalData
from gibbs.families import get_family
from gibbs.priors import Priors
from validation.compare import holm_reject
from validation.geweke import draw_prior, simulate_y

__all__ = [
    "DaskExecutor",
    "GibbsEngine",
    "LocalExecutor",
    "PyMCEngine",
    "SBC",
    "SBCResult",
    "SPREAD",
    "ranked_names",
    "spread_columns",
    "with_spread",
    "ecdf_null",
    "ecdf_uniformity_pvalue",
    "BatchParts",
    "CallableEngine",
    "fit_public",
    "fit_seeds",
    "run_sbc_batch",
    "run_sbc_parts",
    "uniformity_test",
]

_NAMES = ("alpha", "beta", "gamma", "sigma_y", "sigma_alpha")


def _names(family: str) -> tuple[str, ...]:
    """Parameters of the family, in the fixed order of the flattened draws."""
    own = get_family(family).dispersion  # sigma_y exists for the Gaussian family only
    return tuple(n for n in _NAMES if n != "sigma_y" or n in own)


def _replication_seed(master: int, r: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(master, spawn_key=(r,))


def _loglik(
    alpha, beta, sigma_y, data: HierarchicalData, y: np.ndarray, family: str = "gaussian"
) -> np.ndarray:
    """Return log p(y | theta) for a batch of parameter draws (leading axis)."""
    mu = alpha[..., data.group] + beta @ data.X.T
    scale = None if sigma_y is None else sigma_y[..., None]
    return np.sum(get_family(family).loglik(mu, y, data.binomial_trials, scale), axis=-1)


def _flat(draws: dict[str, np.ndarray], family: str = "gaussian") -> np.ndarray:
    """Stack parameter arrays (..., k) into (..., K) in the fixed order of the family's names."""
    parts = []
    for name in _names(family):
        v = draws[name]
        parts.append(v[..., None] if v.ndim == draws["sigma_alpha"].ndim else v)
    return np.concatenate(parts, axis=-1)


def quantity_names(data: HierarchicalData, family: str = "gaussian") -> list[str]:
    """Names of the ranked quantities, in order."""
    names = [f"alpha[{g}]" for g in data.group_names]
    names += [f"beta[{x}]" for x in data.x_names] + [f"gamma[{u}]" for u in data.u_names]
    return [*names, *get_family(family).dispersion, "sigma_alpha", "loglik"]


# The between-group spread of the group effects, ranked beside the parameters: a data-level
# summary whose posterior a sampler with a wrong group-size or scale term gets wrong even where
# each alpha_j's marginal looks nearly right (Modrak et al. 2023: test quantities beyond the
# parameters).
SPREAD = "sd(group effects)"
_GROUP_COLUMN = re.compile(r"^(alpha|e)\[[^,\]]+(,\s*(Intercept|0))?\]$")


def spread_columns(names: Sequence[str]) -> np.ndarray:
    """Return the indices of every group's intercept among the ranked ``names``."""
    return np.array([k for k, n in enumerate(names) if _GROUP_COLUMN.match(n)], dtype=np.intp)


def with_spread(names: Sequence[str], values: np.ndarray) -> np.ndarray:
    """Append the standard deviation of the group intercepts to ``values`` (..., len(names))."""
    idx = spread_columns(names)
    if idx.size < 2:
        return values
    return np.concatenate([values, np.std(values[..., idx], axis=-1)[..., None]], axis=-1)


def ranked_names(names: Sequence[str]) -> list[str]:
    """Return the quantities ranked for ``names``: with :data:`SPREAD` where it exists."""
    names = [n for n in names if n != SPREAD]
    return [*names, SPREAD] if spread_columns(names).size >= 2 else names


def _ranks(
    truth: np.ndarray,
    draws: np.ndarray,
    n_ranks: int,
    rng: np.random.Generator | None = None,
    names: Sequence[str] | None = None,
) -> tuple[np.ndarray, int]:
    """Thin ``draws`` (chains, draws, K) by the smallest bulk ESS and rank ``truth`` (K,).

    With fewer kept draws m than ``n_ranks``, rank ``k`` in 0..m becomes
    ``floor((k + u) (n_ranks + 1) / (m + 1))`` with u uniform: exactly uniform on 0..n_ranks when
    k is uniform on 0..m, so the bins stay even whatever m (a deterministic rescaling fills them
    unevenly and pushes a slowly mixing correct sampler towards a false failure). ``names``
    (the quantities' names without :data:`SPREAD`) adds the spread of the group intercepts.
    """
    import arviz as az

    from validation.compare import without_numba

    if names is not None:
        truth, draws = with_spread(names, truth), with_spread(names, draws)
    chains, n, K = draws.shape
    with without_numba():
        ess = np.array([az.ess(draws[:, :, k], method="bulk") for k in range(K)], dtype=float)
    ess_min = float(np.nanmin(ess)) if np.isfinite(ess).any() else 1.0
    thin = max(1, int(math.floor(chains * n / max(ess_min, 1.0))))
    pooled = draws[:, ::thin].reshape(-1, K) if thin > 1 else draws.reshape(-1, K)
    if pooled.shape[0] >= n_ranks:
        pick = np.linspace(0, pooled.shape[0] - 1, n_ranks).round().astype(int)
        pooled = pooled[pick]
    rank = np.sum(pooled < truth, axis=0)
    m = pooled.shape[0]
    if m != n_ranks:
        u = (rng if rng is not None else np.random.default_rng(0)).random(rank.shape)
        rank = np.floor((rank + u) * (n_ranks + 1) / (m + 1)).astype(int)
    return np.minimum(rank, n_ranks).astype(int), thin


def _rank_rng(seed: np.random.SeedSequence) -> np.random.Generator:
    """Return the rescaling stream of a replication (its own child: no other draw changes)."""
    child = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, 2))
    return np.random.default_rng(child)


# --------------------------------------------------------------------------- engines
@dataclass(frozen=True)
class GibbsEngine:
    """Fits chunks of replications with a Gibbs sweep, all replications' chains in one batch.

    Parameters
    ----------
    sweep : sequence of blocks, optional
        Defaults to the default scheme of ``family``; a mutant's sweep tests a broken sampler.
    chains, draws, tune : int
        Per replication.
    family : {"gaussian", "logistic", "probit"}
        Outcome family of the model.
    """

    sweep: tuple = ()
    chains: int = 2
    draws: int = 500
    tune: int = 200
    family: str = "gaussian"

    def fit_chunk(self, data, priors, thetas, Y, seeds) -> np.ndarray:
        """Return posterior draws (replications, chains, draws, K) for a chunk.

        Every replication through the public path (:func:`gibbs.sampling.sample_batch`).
        """
        from gibbs.sampling import sample_batch
        from gibbs.spec import specify

        spec = specify(data, family=self.family, priors=priors)
        sweep = self.sweep or spec.schemes()[spec.default_scheme]
        post = sample_batch(
            spec,
            Y,
            sweep,
            "sbc",
            seeds=fit_seeds(seeds),
            draws=self.draws,
            tune=self.tune,
            chains=self.chains,
        )
        R, C = Y.shape[0], self.chains
        draws = {}
        for name in _names(self.family):
            v = post[name].values if name in post else np.zeros((R * C, self.draws, 0))
            draws[name] = v.reshape(R, C, self.draws, *v.shape[2:])
        return _flat(draws, self.family)

    def fit_problem(self, problem, Y, seeds) -> np.ndarray:
        """Return (replications, chains, draws, quantities) of a problem's chunk, in one batch."""
        return problem.fit_gibbs(Y, seeds, self.sweep, self.chains, self.draws, self.tune)


@dataclass(frozen=True)
class PyMCEngine:
    """Fits each replication with NUTS on the PyMC twin (``sampler``: "nutpie" or "pymc")."""

    sampler: str = "nutpie"
    chains: int = 2
    draws: int = 500
    tune: int = 500
    family: str = "gaussian"

    def fit_chunk(self, data, priors, thetas, Y, seeds) -> np.ndarray:
        """Return posterior draws (replications, chains, draws, K) for a chunk."""
        from reference_models.fit import fit_reference

        results = []
        for y, seed in zip(Y, seeds, strict=True):
            d = data.replace(y=y)
            idata = fit_reference(
                d,
                priors,
                sampler=self.sampler,
                chains=self.chains,
                draws=self.draws,
                tune=self.tune,
                seed=int(seed.generate_state(1)[0]),
                log_likelihood=False,
                family=self.family,
            )
            post = idata.posterior
            draws = {name: post[name].values for name in _names(self.family) if name in post}
            if "beta" not in post:
                draws["beta"] = np.zeros((*post["sigma_alpha"].shape, 0))
            results.append(_flat(draws, self.family))
        return np.stack(results)

    def fit_problem(self, problem, Y, seeds) -> np.ndarray:
        """Return (replications, chains, draws, quantities): one NUTS fit of the twin each."""
        return np.stack(
            [
                problem.fit_nuts(
                    y, int(s.generate_state(1)[0]), self.sampler, self.chains, self.draws, self.tune
                )
                for y, s in zip(Y, seeds, strict=True)
            ]
        )


@dataclass(frozen=True)
class CallableEngine:
    """Fits each replication with any sampler ``sampler(data, seed, draws, chains) -> idata``.

    The plug-in point for samplers that are not ours: the posterior must use the Gibbs output's
    (and the twin's) variable names, as :func:`gibbs.sample` does. Must be picklable for
    process executors (a module-level function).
    """

    sampler: Any
    chains: int = 2
    draws: int = 500
    family: str = "gaussian"

    def fit_chunk(self, data, priors, thetas, Y, seeds) -> np.ndarray:
        """Return posterior draws (replications, chains, draws, K) for a chunk."""
        results = []
        for y, seed in zip(Y, seeds, strict=True):
            post = self._posterior(data.replace(y=y), seed)
            draws = {name: post[name].values for name in _names(self.family) if name in post}
            if "beta" not in post:
                draws["beta"] = np.zeros((*post["sigma_alpha"].shape, 0))
            results.append(_flat(draws, self.family))
        return np.stack(results)

    def fit_problem(self, problem, Y, seeds) -> np.ndarray:
        """Return (replications, chains, draws, quantities) of a problem's chunk."""
        return np.stack(
            [
                problem.quantities(self._posterior(problem.data.replace(y=y), s), y)
                for y, s in zip(Y, seeds, strict=True)
            ]
        )

    def _posterior(self, data, seed):
        seed = int(seed.generate_state(1)[0])
        return self.sampler(data, seed, self.draws, self.chains).posterior


# --------------------------------------------------------------------------- executors
class LocalExecutor:
    """Chunks in local processes (``workers`` = 1 runs them in this process)."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def map_unordered(self, fn, tasks: Sequence[Any]) -> Iterator[Any]:
        """Yield ``fn(task)`` results as they complete."""
        if self.workers <= 1:
            for task in tasks:
                yield fn(task)
            return
        with ProcessPoolExecutor(self.workers) as pool:
            futures = [pool.submit(fn, t) for t in tasks]
            for f in as_completed(futures):
                yield f.result()


class DaskExecutor:
    """Chunks on Dask distributed: an existing scheduler, or a LocalCluster started here."""

    def __init__(self, scheduler: str | None = None, workers: int = 2) -> None:
        self.scheduler, self.workers = scheduler, workers

    def map_unordered(self, fn, tasks: Sequence[Any]) -> Iterator[Any]:
        """Yield ``fn(task)`` results as they complete."""
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed

        cluster = None
        if self.scheduler is None:
            cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
        else:
            client = Client(self.scheduler)
        try:
            futures = client.map(fn, list(tasks), pure=False)
            for f in dask_completed(futures):
                yield f.result()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


# --------------------------------------------------------------------------- the battery
@dataclass
class _Task:
    data: HierarchicalData
    priors: Priors
    engine: Any
    master: int
    replications: list[int]
    n_ranks: int
    family: str = "gaussian"
    problem: Any = None


def _run_problem(task: _Task, seeds) -> list[dict[str, Any]]:
    """Run a chunk of a problem's replications (any model with an SBC problem), same seeds."""
    problem = task.problem
    thetas, Y = [], []
    for s in seeds:
        rng = np.random.default_rng(np.random.SeedSequence(s.entropy, spawn_key=(*s.spawn_key, 0)))
        theta = problem.draw(rng)
        thetas.append(theta)
        Y.append(problem.simulate(theta, rng))
    Y = np.stack(Y)
    draws = task.engine.fit_problem(problem, Y, seeds)
    out = []
    for k, r in enumerate(task.replications):
        ranks, thin = _ranks(
            problem.truth(thetas[k], Y[k]),
            draws[k],
            task.n_ranks,
            _rank_rng(seeds[k]),
            problem.names,
        )
        out.append({"replication": r, "ranks": ranks, "thin": thin})
    return out


def _run_task(task: _Task) -> list[dict[str, Any]]:
    data, family = task.data, task.family
    seeds = [_replication_seed(task.master, r) for r in task.replications]
    if task.problem is not None:
        return _run_problem(task, seeds)
    thetas, Y = [], []
    for s in seeds:
        rng = np.random.default_rng(np.random.SeedSequence(s.entropy, spawn_key=(*s.spawn_key, 0)))
        theta = draw_prior(task.priors, data, rng, 1, family)
        thetas.append(theta)
        Y.append(simulate_y(theta, data, rng, family)[0])
    Y = np.stack(Y)
    draws = task.engine.fit_chunk(data, task.priors, thetas, Y, seeds)  # (R, C, D, K)
    out = []
    gaussian = bool(get_family(family).dispersion)
    for k, r in enumerate(task.replications):
        th = thetas[k]
        truth = _flat({n: getattr(th, n)[0] for n in _names(family)}, family)
        d = draws[k]
        J, p = data.n_groups, data.p
        alpha, beta = d[..., :J], d[..., J : J + p]
        sigma_y = d[..., -2] if gaussian else None
        ll_draws = _loglik(alpha, beta, sigma_y, data, Y[k], family)
        ll_true = _loglik(
            th.alpha[0], th.beta[0], th.sigma_y[0] if gaussian else None, data, Y[k], family
        )
        full = np.concatenate([d, ll_draws[..., None]], axis=-1)
        ranks, thin = _ranks(
            np.append(truth, ll_true),
            full,
            task.n_ranks,
            _rank_rng(seeds[k]),
            quantity_names(data, family),
        )
        out.append({"replication": r, "ranks": ranks, "thin": thin})
    return out


@dataclass
class SBCResult:
    """Ranks of every replication and the uniformity tests.

    Attributes
    ----------
    ranks : DataFrame
        One row per replication, one column per quantity (0..n_ranks).
    tests : DataFrame
        Per quantity: chi-square and ECDF p-values and Holm rejections.
    passed : bool
        No rejection at the family-wise ``level``.
    """

    ranks: pd.DataFrame
    tests: pd.DataFrame
    passed: bool
    level: float
    n_ranks: int
    settings: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        worst = self.tests[["p_chi2", "p_ecdf"]].min(axis=1).idxmin()
        return (
            f"SBC: {verdict} ({len(self.ranks)} replications, {len(self.tests)} quantities, Holm "
            f"at {self.level:g} over chi-square and ECDF tests; smallest p at {worst})"
        )


def _ecdf_statistic(u: np.ndarray, grid: int) -> np.ndarray:
    """Smallest two-sided binomial tail probability of the ECDF over the grid, per row of ``u``."""
    z = np.arange(1, grid) / grid
    u = np.sort(np.atleast_2d(u), axis=-1)
    n = u.shape[-1]
    counts = np.stack([np.searchsorted(row, z, side="right") for row in u])
    lower = sps.binom.cdf(counts, n, z)
    upper = sps.binom.sf(counts - 1, n, z)
    return np.min(2 * np.minimum(lower, upper), axis=-1)


@lru_cache(maxsize=16)
def ecdf_null(n: int, n_sim: int, grid: int, seed: int) -> np.ndarray:
    """Sorted null distribution of the ECDF statistic of ``n`` uniform ranks (simulated)."""
    return np.sort(_ecdf_statistic(np.random.default_rng(seed).random((n_sim, n)), grid))


def ecdf_uniformity_pvalue(
    u: np.ndarray, n_sim: int = 20_000, seed: int = 0, grid: int = 100
) -> float:
    """P-value of the ECDF test of uniformity with simultaneous bands (Sailynoja et al. 2022).

    The statistic is the smallest two-sided binomial tail probability of the ECDF over a grid
    of evaluation points; its null distribution is simulated once per sample size from uniform
    samples (the construction that sets the simultaneous band's adjusted pointwise level). The
    smallest attainable p-value is 1 / (n_sim + 1).
    """
    null = ecdf_null(u.size, n_sim, grid, seed)
    observed = float(_ecdf_statistic(u, grid)[0])
    return float((1 + np.searchsorted(null, observed, side="right")) / (n_sim + 1))


class SBC:
    """A simulation-based calibration battery with one master seed.

    Parameters
    ----------
    data : HierarchicalData
        Supplies the design (X, groups, U); its y is not used.
    priors : Priors
        Proper priors.
    engine : GibbsEngine or PyMCEngine
        The sampler under test.
    replications : int
        Number of simulated datasets.
    seed : int
        Master seed; replication r uses child r.
    n_ranks : int
        Draws kept per replication after ESS thinning (ranks take values 0..n_ranks).
    out_dir : path, optional
        Where every finished replication is written (needed for resuming).
    chunk : int
        Replications per task (the Gibbs engine fits a chunk in one batch).

    The outcome family is the engine's (``engine.family``). ``problem`` (e.g.
    :class:`validation.general_calibration.GeneralSBCProblem`) runs the battery for another
    kernel's model: its prior and data simulators, its fits and its ranked quantities; ``data``
    and ``priors`` are then ignored.
    """

    def __init__(
        self,
        data,
        priors,
        engine,
        replications=100,
        seed=0,
        n_ranks=99,
        out_dir=None,
        chunk=25,
        problem=None,
        fingerprint=None,
    ) -> None:
        self.family = getattr(engine, "family", "gaussian")
        self.problem = problem
        if problem is None and not priors.is_proper(self.family):
            raise ValueError("SBC needs proper priors on every parameter")
        self.data, self.priors, self.engine = data, priors, engine
        self.replications, self.seed, self.n_ranks = replications, seed, n_ranks
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.chunk = chunk
        self.names = ranked_names(
            problem.names if problem is not None else quantity_names(data, self.family)
        )
        self.extra_fingerprint = dict(fingerprint or {})

    def fingerprint(self) -> dict[str, str]:
        """Return the settings that define the replications (:mod:`validation.run_folder`)."""
        from validation.run_folder import fingerprint

        extra = dict(self.extra_fingerprint)
        if self.problem is not None:
            extra.setdefault("problem", type(self.problem).__name__)
        return fingerprint(
            data=self.problem.data if self.problem is not None else self.data,
            priors=self.problem.priors if self.problem is not None else self.priors,
            family=self.family,
            engine=self.engine,
            n_ranks=self.n_ranks,
            seed=self.seed,
            names=self.names,
            extra=extra,
        )

    def _path(self, r: int) -> Path:
        return self.out_dir / f"replication_{r:05d}.nc"

    def _write(self, record: dict[str, Any]) -> None:
        import xarray as xr

        ds = xr.Dataset(
            {"rank": (("quantity",), record["ranks"])},
            coords={"quantity": self.names},
            attrs={
                "replication": record["replication"],
                "thin": record["thin"],
                "seed": self.seed,
                "n_ranks": self.n_ranks,
            },
        )
        tmp = self._path(record["replication"]).with_suffix(".tmp")
        ds.to_netcdf(tmp, engine="scipy")
        os.replace(tmp, self._path(record["replication"]))  # atomic: no half-written results

    def _done(self) -> dict[int, np.ndarray]:
        import xarray as xr

        from validation.run_folder import RunMismatch

        done = {}
        if self.out_dir is None or not self.out_dir.exists():
            return done
        for path in sorted(self.out_dir.glob("replication_*.nc")):
            try:
                with xr.open_dataset(path, engine="scipy") as ds:
                    attrs = dict(ds.attrs)
                    quantities = list(ds["quantity"].values)
                    rank = ds["rank"].values.astype(int)
                    replication = int(attrs["replication"])
            except Exception as exc:  # a truncated or foreign file: any reader error
                # Replication r's result depends only on (seed, r): recompute it.
                aside = path.with_suffix(".corrupt")
                os.replace(path, aside)
                warnings.warn(
                    f"{path} is unreadable ({type(exc).__name__}: {exc}); moved to {aside.name} "
                    "and recomputed",
                    RuntimeWarning,
                    stacklevel=2,
                )
                continue
            if int(attrs["seed"]) != self.seed or int(attrs["n_ranks"]) != self.n_ranks:
                raise RunMismatch(f"{path} belongs to another run (seed or n_ranks differ)")
            if quantities != list(self.names) or rank.shape != (len(self.names),):
                raise RunMismatch(f"{path} belongs to another model (its quantities differ)")
            if replication < self.replications:  # a longer earlier run: use only what is asked
                done[replication] = rank
        return done

    def run(
        self, executor=None, resume: bool = False, progressbar: bool = True, level: float = 0.01
    ) -> SBCResult:
        """Run (or resume) the battery and test uniformity."""
        executor = executor or LocalExecutor(1)
        if self.out_dir is not None:
            from validation.run_folder import check_or_write

            self.out_dir.mkdir(parents=True, exist_ok=True)
            if not resume and any(self.out_dir.glob("replication_*.nc")):
                raise ValueError(f"{self.out_dir} already has replications: pass resume=True")
            check_or_write(self.out_dir, self.fingerprint(), resume)
        ranks = self._done() if resume else {}
        todo = [r for r in range(self.replications) if r not in ranks]
        tasks = [
            _Task(
                self.data,
                self.priors,
                self.engine,
                self.seed,
                todo[i : i + self.chunk],
                self.n_ranks,
                self.family,
                self.problem,
            )
            for i in range(0, len(todo), self.chunk)
        ]
        start, finished = time.perf_counter(), 0
        for records in executor.map_unordered(_run_task, tasks):
            for rec in records:
                ranks[rec["replication"]] = rec["ranks"]
                if self.out_dir is not None:
                    self._write(rec)
            finished += len(records)
            if progressbar:
                elapsed = time.perf_counter() - start
                left = elapsed / finished * (len(todo) - finished)
                print(
                    f"\rSBC: {len(ranks)}/{self.replications} replications, "
                    f"{elapsed:.0f}s elapsed, {left:.0f}s left ",
                    end="",
                    flush=True,
                )
        if progressbar:
            print(flush=True)
        table = pd.DataFrame(
            [ranks[r] for r in sorted(ranks)], index=sorted(ranks), columns=self.names
        )
        return self.test(table, level)

    def test(self, ranks: pd.DataFrame, level: float = 0.01) -> SBCResult:
        """Chi-square and ECDF uniformity tests per quantity, Holm over all."""
        return uniformity_test(ranks, self.n_ranks, level, self.seed)


def uniformity_test(ranks: pd.DataFrame, n_ranks: int, level: float, seed: int) -> SBCResult:
    """Chi-square and ECDF uniformity tests of SBC ranks (0..n_ranks) per quantity, Holm over all.

    Parameters
    ----------
    ranks : DataFrame
        One row per replication, one column per quantity.
    n_ranks : int
        Largest possible rank.
    level : float
        Family-wise level.
    seed : int
        The battery's master seed (recorded).
    """
    R, L = len(ranks), n_ranks
    bins = max(2, min(20, R // 10))
    rows = []
    for k, name in enumerate(ranks.columns):
        r = ranks[name].to_numpy()
        counts = np.bincount(np.minimum(r * bins // (L + 1), bins - 1), minlength=bins)
        p_chi2 = sps.chisquare(counts).pvalue
        u = (r + np.random.default_rng(k).random(R)) / (L + 1)  # jittered to continuous
        rows.append({"quantity": name, "p_chi2": p_chi2, "p_ecdf": ecdf_uniformity_pvalue(u)})
    tests = pd.DataFrame(rows).set_index("quantity")
    reject = holm_reject(tests[["p_chi2", "p_ecdf"]].to_numpy().ravel(), level).reshape(-1, 2)
    tests["reject_chi2"], tests["reject_ecdf"] = reject[:, 0], reject[:, 1]
    return SBCResult(
        ranks,
        tests,
        passed=not reject.any(),
        level=level,
        n_ranks=L,
        settings={"replications": R, "seed": seed},
    )


@dataclass(frozen=True)
class BatchParts:
    """What SBC needs of a kernel's model: the callables of :func:`run_sbc_batch`.

    ``from_posterior(posterior)`` (optional) turns a twin's posterior into states that
    ``flatten`` and ``loglik`` take, for the NUTS engine.
    """

    base: Any
    sweep: tuple
    draw: Callable
    simulate: Callable
    start: Callable
    flatten: Callable
    loglik: Callable
    names: list
    from_posterior: Callable | None = None


def fit_seeds(seeds) -> list[np.random.SeedSequence]:
    """Each replication's fit seed: child 1 of its seed (child 0 drew theta and y)."""
    return [np.random.SeedSequence(s.entropy, spawn_key=(*s.spawn_key, 1)) for s in seeds]


def fit_public(spec, parts: BatchParts, Y, seeds, sweep, chains: int, draws: int, tune: int):
    """Fit every replication through the public path; (replications, chains, draws, K).

    :func:`gibbs.sampling.sample_batch` runs replication r's chains exactly as
    :func:`gibbs.sample` would on its outcomes (streams of its fit seed, initial values from its
    data, warm-up, output); ``parts.from_posterior`` reads the quantities back from the output.
    """
    from gibbs.sampling import sample_batch

    post = sample_batch(
        spec,
        Y,
        sweep or parts.sweep,
        "sbc",
        seeds=fit_seeds(seeds),
        draws=draws,
        tune=tune,
        chains=chains,
    )
    out = []
    for r, y in enumerate(Y):
        sub = post.isel(chain=slice(r * chains, (r + 1) * chains))
        state = parts.from_posterior(sub)
        flat = np.concatenate([parts.flatten(state), parts.loglik(state, y[None])[:, None]], -1)
        out.append(flat.reshape(chains, draws, -1))
    return np.stack(out)


def run_sbc_parts(spec, parts: BatchParts, sweep=None, **settings) -> SBCResult:
    """:func:`run_sbc_batch` of ``spec`` with its kernel's :class:`BatchParts`."""
    return run_sbc_batch(spec, parts, sweep or parts.sweep, **settings)


def run_sbc_batch(
    spec,
    parts: BatchParts,
    sweep,
    *,
    replications: int,
    seed: int,
    n_ranks: int,
    chains: int,
    draws: int,
    tune: int,
    level: float,
) -> SBCResult:
    """SBC of ``spec``, every replication's chains updated together through the public path.

    Replication r draws theta and y with ``SeedSequence(seed, spawn_key=(r, 0))`` and is fitted
    by :func:`fit_public` (chains on the streams of ``(r, 1)``, as :func:`gibbs.sample` with
    that seed); the ranks of the flattened truth, the log-likelihood of y and the spread of the
    group intercepts among the ESS-thinned draws are tested by :func:`uniformity_test`.

    Parameters
    ----------
    spec : gibbs.spec.ModelSpec
        The model (its design; its y is not used).
    parts : BatchParts
        The kernel's prior and data simulators, flattening and log-likelihood.
    sweep : sequence of blocks
    """
    seeds = [np.random.SeedSequence(seed, spawn_key=(r,)) for r in range(replications)]
    truths, Y = [], []
    for s in seeds:
        rng = np.random.default_rng(np.random.SeedSequence(s.entropy, spawn_key=(*s.spawn_key, 0)))
        theta = parts.draw(rng, 1)
        truths.append(theta)
        Y.append(parts.simulate(theta, rng)[0])
    Y = np.stack(Y)
    post = fit_public(spec, parts, Y, seeds, sweep, chains, draws, tune)
    names = parts.names
    rows = []
    for r, theta in enumerate(truths):
        truth = np.append(parts.flatten(theta)[0], parts.loglik(theta, Y[r][None]))
        rows.append(_ranks(truth, post[r], n_ranks, _rank_rng(seeds[r]), names)[0])
    return uniformity_test(pd.DataFrame(rows, columns=ranked_names(names)), n_ranks, level, seed)
