"""The driver: chains, seeds, warm-up, thinning and collection into ``arviz.InferenceData``.

Kernels never see a chain index; the driver owns the chains (a leading array axis), their random
streams and the storage. Output is shaped ``(chain, draw, *shape)``.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.kernels import SCHEMES
from gibbs.kernels.gaussian import GaussianModel, State, log_joint
from gibbs.priors import Priors
from gibbs.streams import ChainStreams, chain_seed_sequences

__all__ = ["DEFAULT_SCHEME", "initial_state", "run_chains", "sample", "sample_sweep"]

# The scheme with the most effective samples per second on radon (docs/benchmarks.md).
DEFAULT_SCHEME = "collapsed"
_PARAMS = ("alpha", "beta", "gamma", "sigma_y", "sigma_alpha")


def initial_state(
    model: GaussianModel, streams: ChainStreams, init: Mapping[str, Any] | None = None
) -> State:
    """Over-dispersed initial values, one set per chain, from each chain's own ``init`` stream.

    Coefficients start at the complete-pooling least-squares fit plus two standard errors of
    normal noise; sigma_y at the residual sd times exp(N(0, 0.5^2)); sigma_alpha at the spread of
    the group mean residuals times exp(N(0, 1)); alpha around U gamma. ``init`` overrides any of
    ``alpha``, ``beta``, ``gamma``, ``sigma_y``, ``sigma_alpha`` (broadcast to every chain).
    """
    d, C = model.data, streams.chains
    D = np.column_stack([d.X, d.U[d.group]])
    theta_hat, *_ = np.linalg.lstsq(D, d.y, rcond=None)
    resid = d.y - D @ theta_hat
    dof = max(d.n - D.shape[1], 1)
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.pinv(D.T @ D)
    root = np.linalg.cholesky(cov + 1e-12 * np.eye(len(cov)) * max(np.trace(cov), 1e-12))
    group_means = (
        np.bincount(d.group, resid, d.n_groups)[d.stats.n_j > 0] / d.stats.n_j[d.stats.n_j > 0]
    )
    spread = max(float(np.std(group_means)), 0.1 * np.sqrt(s2))
    z = np.stack([g.standard_normal(D.shape[1] + 2 + d.n_groups) for g in streams.init])
    theta = theta_hat + 2.0 * z[:, : D.shape[1]] @ root.T
    gamma = theta[:, d.p :]
    sigma_alpha = spread * np.exp(z[:, -d.n_groups - 1])
    values = {
        "beta": theta[:, : d.p],
        "gamma": gamma,
        "sigma_y": np.sqrt(s2) * np.exp(0.5 * z[:, D.shape[1]]),
        "sigma_alpha": sigma_alpha,
        "alpha": gamma @ d.U.T + sigma_alpha[:, None] * z[:, -d.n_groups :],
    }
    shapes = {
        "alpha": (d.n_groups,),
        "beta": (d.p,),
        "gamma": (d.q,),
        "sigma_y": (),
        "sigma_alpha": (),
    }
    for name, value in (init or {}).items():
        if name not in shapes:
            raise ValueError(f"init: unknown parameter {name!r}; expected one of {list(shapes)}")
        try:
            values[name] = np.array(np.broadcast_to(np.asarray(value, float), (C, *shapes[name])))
        except ValueError as exc:
            raise ValueError(f"init: {name} must have shape {shapes[name]}") from exc
    for name in ("sigma_y", "sigma_alpha"):
        if np.any(values[name] <= 0):
            raise ValueError(f"init: {name} must be positive")
    return State(**values, aux_y=np.ones(C), aux_alpha=np.ones(C))


class _Progress:
    """A one-line progress report on stderr, refreshed at most four times a second."""

    def __init__(self, total: int, label: str, enabled: bool) -> None:
        self.total, self.label, self.enabled = total, label, enabled
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, done: int, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last < 0.25:
            return
        self.last = now
        elapsed = now - self.start
        left = elapsed / done * (self.total - done) if done else float("nan")
        sys.stderr.write(
            f"\r{self.label}: {done}/{self.total} [{100 * done / self.total:3.0f}%] "
            f"{elapsed:.1f}s elapsed, {left:.1f}s left "
        )
        if force:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run_chains(
    model: GaussianModel,
    sweep: Sequence[Callable],
    state: State,
    streams: ChainStreams,
    *,
    draws: int,
    tune: int,
    thin: int,
    keep_alpha: np.ndarray,
    dtype: Any,
    progress: _Progress,
) -> tuple[dict[str, np.ndarray], int, dict[str, float]]:
    """Run the sweeps and collect thinned draws; returns (storage, draws kept, timings).

    A ``KeyboardInterrupt`` stops the loop and keeps every draw finished so far.
    """
    C = streams.chains
    store = {
        "alpha": np.empty((C, draws, keep_alpha.size), dtype),
        "beta": np.empty((C, draws, model.data.p), dtype),
        "gamma": np.empty((C, draws, model.data.q), dtype),
        "sigma_y": np.empty((C, draws), dtype),
        "sigma_alpha": np.empty((C, draws), dtype),
        "lp": np.empty((C, draws), float),
    }
    total = tune + draws * thin
    kept = 0
    # With every alpha kept at full precision the log density is computed once, vectorised over
    # all draws, after the loop; otherwise it must be computed while the full state is at hand.
    lp_in_loop = keep_alpha.size < model.data.n_groups or np.dtype(dtype) != np.float64
    timings = {"tuning_time": 0.0, "sampling_time": 0.0}
    t0 = time.perf_counter()
    try:
        for it in range(total):
            for block in sweep:
                state = block(streams, state, model)
            if it == tune - 1:
                timings["tuning_time"] = time.perf_counter() - t0
            if it >= tune and (it - tune) % thin == thin - 1:
                store["alpha"][:, kept] = state.alpha[:, keep_alpha]
                store["beta"][:, kept] = state.beta
                store["gamma"][:, kept] = state.gamma
                store["sigma_y"][:, kept] = state.sigma_y
                store["sigma_alpha"][:, kept] = state.sigma_alpha
                if lp_in_loop:
                    store["lp"][:, kept] = log_joint(state, model)
                kept += 1
            progress.update(it + 1)
    except KeyboardInterrupt:
        warnings.warn(
            f"sampling interrupted: returning the {kept} draws per chain finished so far",
            RuntimeWarning,
            stacklevel=3,
        )
    progress.update(min(total, tune + kept * thin), force=True)
    store = {k: v[:, :kept] for k, v in store.items()}
    if not lp_in_loop and kept:
        flat = State(
            **{k: store[k].reshape(C * kept, *store[k].shape[2:]) for k in _PARAMS},
            aux_y=np.ones(C * kept),
            aux_alpha=np.ones(C * kept),
        )
        store["lp"] = log_joint(flat, model).reshape(C, kept)
    timings["sampling_time"] = time.perf_counter() - t0 - timings["tuning_time"]
    return store, kept, timings


def _alpha_indices(data: HierarchicalData, store_alpha: bool | Sequence[Any]) -> np.ndarray:
    if store_alpha is True:
        return np.arange(data.n_groups)
    if store_alpha is False:
        return np.arange(0)
    names = list(data.group_names)
    idx = []
    for g in store_alpha:
        if g in names:
            idx.append(names.index(g))
        elif isinstance(g, int | np.integer) and 0 <= g < data.n_groups:
            idx.append(int(g))
        else:
            raise ValueError(f"store_alpha: {g!r} is neither a group label nor a group index")
    return np.asarray(idx, dtype=np.intp)


def sample(
    data: HierarchicalData,
    priors: Priors | None = None,
    scheme: str = DEFAULT_SCHEME,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    thin: int = 1,
    seed: int | np.random.SeedSequence | None = None,
    init: Mapping[str, Any] | None = None,
    progressbar: bool = True,
    *,
    store_alpha: bool | Sequence[Any] = True,
    dtype: Any = np.float64,
    log_likelihood: bool = True,
    posterior_predictive: bool = False,
):
    """Sample the varying-intercept model by Gibbs sampling.

    Parameters
    ----------
    data : HierarchicalData
        The data.
    priors : Priors, optional
        Defaults to Gelman & Hill's: flat on beta and gamma, uniform on sigma_y and sigma_alpha.
    scheme : {"collapsed", "interweaving", "blocked", "componentwise"}
        Update scheme; all target the same posterior. ``"collapsed"`` (default: the most
        effective samples per second on radon, docs/benchmarks.md) draws (beta, gamma) and then
        sigma_alpha with alpha integrated out, then alpha and sigma_y; ``"interweaving"`` draws
        (beta, gamma) with alpha integrated out and interweaves (ASIS) a non-centered draw of
        (beta, gamma, sigma_alpha); ``"blocked"`` omits the interweaving; ``"componentwise"`` is
        the source article's order with corrected draws.
    draws, tune : int
        Kept draws per chain, and warm-up iterations discarded before them.
    chains : int
        Number of chains (updated together, vectorised in numpy).
    thin : int
        Keep every ``thin``-th iteration after warm-up.
    seed : int or SeedSequence, optional
        Master seed; chain k uses child k, so its draws do not depend on ``chains``. ``None``
        draws fresh entropy, recorded in the output's attributes.
    init : mapping, optional
        Initial values overriding the over-dispersed defaults.
    progressbar : bool
        Show progress on stderr.
    store_alpha : bool or sequence
        Keep all group intercepts (True), none (False) or the given groups (labels or indices):
        bounds memory for large J.
    dtype : numpy dtype
        Storage type of the draws (``np.float32`` halves memory).
    log_likelihood : bool
        Add the pointwise log-likelihood group (for LOO).
    posterior_predictive : bool
        Add replicated data ``y`` drawn at every kept draw.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` (alpha, beta, gamma, sigma_y, sigma_alpha), ``sample_stats`` (lp),
        ``log_likelihood``, ``observed_data``, ``constant_data`` and optionally
        ``posterior_predictive``; attributes record scheme, priors, seed and version.

    Raises
    ------
    ValueError
        For an unknown scheme, bad sizes, or priors that leave the posterior improper.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {sorted(SCHEMES)}")
    return sample_sweep(
        data,
        SCHEMES[scheme],
        scheme,
        priors,
        draws=draws,
        tune=tune,
        chains=chains,
        thin=thin,
        seed=seed,
        init=init,
        progressbar=progressbar,
        store_alpha=store_alpha,
        dtype=dtype,
        log_likelihood=log_likelihood,
        posterior_predictive=posterior_predictive,
    )


def sample_sweep(
    data: HierarchicalData,
    sweep: Sequence[Callable],
    label: str,
    priors: Priors | None = None,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    thin: int = 1,
    seed: int | np.random.SeedSequence | None = None,
    init: Mapping[str, Any] | None = None,
    progressbar: bool = True,
    store_alpha: bool | Sequence[Any] = True,
    dtype: Any = np.float64,
    log_likelihood: bool = True,
    posterior_predictive: bool = False,
):
    """Run an explicit sweep of blocks (for testing samplers, e.g. the mutants).

    Same parameters and output as :func:`sample`, with the scheme given as the sequence of
    ``update(streams, state, model) -> state`` blocks and a ``label`` recorded as its name.
    """
    from gibbs import __version__

    for name, value, low in [
        ("draws", draws, 1),
        ("tune", tune, 0),
        ("chains", chains, 1),
        ("thin", thin, 1),
    ]:
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    priors = priors if priors is not None else Priors()
    model = GaussianModel(data, priors)
    keep_alpha = _alpha_indices(data, store_alpha)
    master, chain_seqs = chain_seed_sequences(seed, chains)
    streams = ChainStreams(chain_seqs)
    state = initial_state(model, streams, init)
    progress = _Progress(tune + draws * thin, f"Gibbs ({label}, {chains} chains)", progressbar)
    store, kept, timings = run_chains(
        model,
        sweep,
        state,
        streams,
        draws=draws,
        tune=tune,
        thin=thin,
        keep_alpha=keep_alpha,
        dtype=dtype,
        progress=progress,
    )
    if kept == 0:
        raise KeyboardInterrupt("sampling interrupted before the first kept draw")
    attrs = {
        "inference_library": "gibbs-suite",
        "inference_library_version": __version__,
        "scheme": label,
        "priors": repr(priors),
        "seed_entropy": str(master.entropy),
        "draws": kept,
        "tune": tune,
        "thin": thin,
        "chains": chains,
        **timings,
    }
    from gibbs.inference_data import to_inference_data

    return to_inference_data(
        data,
        store,
        keep_alpha,
        attrs,
        log_likelihood=log_likelihood,
        predictive_rngs=streams.predictive if posterior_predictive else None,
    )
