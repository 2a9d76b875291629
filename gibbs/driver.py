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

from gibbs.components import (
    COMPONENTS_SCHEMES,
    DEFAULT_COMPONENTS_SCHEME,
    components_inference_data,
    initial_state_components,
    make_factors,
)
from gibbs.data import HierarchicalData
from gibbs.families import normalize_family
from gibbs.kernels import FAMILY_SCHEMES
from gibbs.kernels.binomial import BinomialModel, BinomialState, log_joint_binomial
from gibbs.kernels.components import ComponentsModel, ComponentsState, log_joint_components
from gibbs.kernels.gaussian import GaussianModel, State, log_joint
from gibbs.kernels.slopes import SlopesModel, SlopesState, log_joint_slopes
from gibbs.priors import Priors, default_priors
from gibbs.slopes import (
    DEFAULT_SLOPES_SCHEME,
    SLOPES_SCHEMES,
    SlopesPriors,
    initial_state_slopes,
    slopes_inference_data,
)
from gibbs.streams import ChainStreams, chain_seed_sequences
from gibbs.version import __version__

__all__ = [
    "DEFAULT_SCHEME",
    "DEFAULT_SCHEMES",
    "default_scheme",
    "initial_state",
    "run_chains",
    "sample",
    "sample_sweep",
]

# The scheme with the most effective samples per second on radon, per family
# (docs/benchmarks.md).
DEFAULT_SCHEMES = {"gaussian": "marginal", "logistic": "collapsed", "probit": "collapsed"}
DEFAULT_SCHEME = DEFAULT_SCHEMES["gaussian"]
_PARAMS = ("alpha", "beta", "gamma", "sigma_y", "sigma_alpha")


def default_scheme(
    family: str = "gaussian", slopes: Sequence[str] = (), factors: Mapping | None = None
) -> str:
    """Return the scheme :func:`sample` uses when none is given, for this kind of model."""
    if slopes:
        return DEFAULT_SLOPES_SCHEME
    if factors:
        return DEFAULT_COMPONENTS_SCHEME
    return DEFAULT_SCHEMES[normalize_family(family)]


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
    _override(values, shapes, init, C)
    return State(**values, aux_y=np.ones(C), aux_alpha=np.ones(C))


def initial_state_binomial(
    model: BinomialModel, streams: ChainStreams, init: Mapping[str, Any] | None = None
) -> BinomialState:
    """Over-dispersed initial values for the logistic and probit models, one set per chain.

    Coefficients start at a weighted least-squares fit to the empirical link of each row,
    link((y + 1/2) / (m + 1)), plus two standard errors of normal noise (standard errors from the
    binomial information at those proportions); sigma_alpha at the spread of the group mean
    residuals times exp(N(0, 1)); alpha around U gamma. ``init`` overrides ``alpha``, ``beta``,
    ``gamma`` or ``sigma_alpha``.
    """
    from scipy import special

    d, C, m = model.data, streams.chains, model.trials
    prop = (d.y + 0.5) / (m + 1.0)
    z0 = special.logit(prop) if model.family == "logistic" else special.ndtri(prop)
    info = m * prop * (1 - prop)
    if model.family == "probit":  # information of the probit link at the same proportions
        info = m * np.exp(-(z0**2)) / (2 * np.pi * prop * (1 - prop))
    D = model.D
    sw = np.sqrt(info)
    theta_hat, *_ = np.linalg.lstsq(D * sw[:, None], z0 * sw, rcond=None)
    cov = np.linalg.pinv((D * info[:, None]).T @ D)
    root = np.linalg.cholesky(cov + 1e-12 * np.eye(len(cov)) * max(np.trace(cov), 1e-12))
    resid = z0 - D @ theta_hat
    n_j = d.stats.n_j
    group_means = np.bincount(d.group, resid, d.n_groups)[n_j > 0] / n_j[n_j > 0]
    spread = max(float(np.std(group_means)), 0.1)
    k = D.shape[1]
    z = np.stack([g.standard_normal(k + 1 + d.n_groups) for g in streams.init])
    theta = theta_hat + 2.0 * z[:, :k] @ root.T
    values = {"beta": theta[:, : d.p], "gamma": theta[:, d.p :]}
    values["sigma_alpha"] = spread * np.exp(z[:, k])
    values["alpha"] = values["gamma"] @ d.U.T + values["sigma_alpha"][:, None] * z[:, k + 1 :]
    shapes = {"alpha": (d.n_groups,), "beta": (d.p,), "gamma": (d.q,), "sigma_alpha": ()}
    _override(values, shapes, init, C)
    return BinomialState(
        **values,
        aux_alpha=np.ones(C),
        w=np.ones((C, d.n)),
        r=np.zeros((C, d.n)),
    )


def _override(
    values: dict[str, np.ndarray],
    shapes: dict[str, tuple],
    init: Mapping[str, Any] | None,
    chains: int,
) -> None:
    """Apply user initial values (broadcast to every chain), checking names, shapes and signs."""
    for name, value in (init or {}).items():
        if name not in shapes:
            raise ValueError(f"init: unknown parameter {name!r}; expected one of {list(shapes)}")
        try:
            values[name] = np.array(
                np.broadcast_to(np.asarray(value, float), (chains, *shapes[name]))
            )
        except ValueError as exc:
            raise ValueError(f"init: {name} must have shape {shapes[name]}") from exc
    for name in ("sigma_y", "sigma_alpha"):
        if name in values and np.any(values[name] <= 0):
            raise ValueError(f"init: {name} must be positive")


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
    model: GaussianModel | BinomialModel | SlopesModel | ComponentsModel,
    sweep: Sequence[Callable],
    state: State | BinomialState | SlopesState | ComponentsState,
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
    params = _PARAMS
    if isinstance(model, SlopesModel):
        params = (*_PARAMS, "Sigma")
    elif isinstance(model, ComponentsModel):
        params = (*_PARAMS, "effects", "sigma_f")
    names = [name for name in params if name in state._fields]
    store = {name: np.empty((C, draws, *getattr(state, name).shape[1:]), dtype) for name in names}
    store["alpha"] = np.empty((C, draws, keep_alpha.size, *state.alpha.shape[2:]), dtype)
    store["lp"] = np.empty((C, draws), float)
    total = tune + draws * thin
    kept = 0
    gaussian = isinstance(model, GaussianModel)
    # With every alpha kept at full precision the Gaussian log density is computed once,
    # vectorised over all draws, after the loop; otherwise (or for a binomial model, whose
    # likelihood is O(n) per draw anyway) it is computed while the full state is at hand.
    lp_in_loop = (
        not gaussian or keep_alpha.size < model.data.n_groups or np.dtype(dtype) != np.float64
    )
    lp_function = log_joint if gaussian else log_joint_binomial
    if isinstance(model, SlopesModel):
        lp_function = log_joint_slopes
    elif isinstance(model, ComponentsModel):
        lp_function = log_joint_components
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
                for name in names[1:]:
                    store[name][:, kept] = getattr(state, name)
                if lp_in_loop:
                    store["lp"][:, kept] = lp_function(state, model)
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
    data_or_formula: HierarchicalData | str | None = None,
    priors: Priors | SlopesPriors | None = None,
    scheme: str | None = None,
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
    family: str = "gaussian",
    data: HierarchicalData | Any = None,
    trials: str | int | None = None,
    slopes: Sequence[str] | None = None,
    factors: Mapping[str, Any] | None = None,
):
    """Sample the varying-intercept (or varying-slopes) model by Gibbs sampling.

    ``gibbs.sample(hdata)``, ``gibbs.sample(data=hdata)`` or, with a formula in the lme4/bambi
    syntax, ``gibbs.sample("log_radon ~ floor + log_uranium + (1 | county)", data=df)``.

    Parameters
    ----------
    data_or_formula : HierarchicalData or str
        The data, or a formula ``"y ~ terms + (1 | group)"`` evaluated on the DataFrame ``data``
        (:func:`gibbs.formula.from_formula`: terms constant within every group become
        group-level predictors). A formula and the equivalent ``HierarchicalData`` give
        bit-identical draws for the same seed.
    priors : Priors, optional
        Defaults to Gelman & Hill's for the Gaussian family (flat on beta and gamma, uniform on
        sigma_y and sigma_alpha) and to :func:`gibbs.priors.binomial_default` for the binomial
        families (N(0, 2.5^2) on beta and gamma, uniform on sigma_alpha).
    scheme : {"marginal", "collapsed", "interweaving", "blocked", "componentwise"}, optional
        Update scheme; all target the same posterior. ``"marginal"`` (default: the most
        effective samples per second on radon, docs/benchmarks.md) is fully collapsed: it moves
        (sigma_y, sigma_alpha) on their marginal posterior (alpha, beta and gamma integrated
        out) by iterated sampling importance resampling, then draws (beta, gamma) and alpha
        exactly given them (:mod:`gibbs.kernels.marginal`); ``"collapsed"`` draws (beta, gamma)
        and then sigma_alpha with alpha integrated out, then alpha and sigma_y;
        ``"interweaving"`` draws (beta, gamma) with alpha integrated out and interweaves (ASIS) a
        non-centered draw of (beta, gamma, sigma_alpha); ``"blocked"`` omits the interweaving;
        ``"componentwise"`` is the source article's order with corrected draws. With varying
        slopes or several grouping factors the schemes are ``"collapsed"`` (default),
        ``"blocked"`` (and, for slopes, ``"componentwise"``); see :mod:`gibbs.slopes` and
        :mod:`gibbs.components`.
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
    family : {"gaussian", "logistic", "probit"}
        Outcome model (:mod:`gibbs.families`). ``"logistic"`` (alias ``"bernoulli"``,
        ``"binomial"``) samples by Polya-Gamma augmentation and ``"probit"`` by Albert-Chib
        truncated normals, for 0/1 outcomes or successes out of ``data.trials``; their schemes
        are ``"collapsed"`` (default), ``"blocked"`` and ``"componentwise"``.
    data : HierarchicalData or DataFrame, optional
        The data as a keyword: a ``HierarchicalData``, or the DataFrame of a formula.
    trials : str or int, optional
        With a formula and a binomial family: the column (or number) of trials.
    slopes : sequence of str, optional
        Columns of ``data.X`` whose coefficients vary by group besides the intercept (Gaussian
        family): the varying-slopes model of :mod:`gibbs.slopes`, with ``priors`` a
        :class:`gibbs.slopes.SlopesPriors`. A formula says the same with ``(1 + x | group)``.
    factors : mapping of str to array_like, optional
        Further grouping factors, one label per row each (Gaussian family): a factor constant
        within every group is nested above the groups (``{"state": ...}`` for house < county <
        state), any other is crossed (:mod:`gibbs.components`). Scale priors:
        ``Priors(factor_scales={name: prior})``. Scheme ``"blocked"`` (default).

    Returns
    -------
    arviz.InferenceData
        ``posterior`` (alpha, beta, gamma, sigma_y (Gaussian only), sigma_alpha; with varying
        slopes also gamma_slope and the correlations rho_alpha),
        ``sample_stats`` (lp),
        ``log_likelihood``, ``observed_data``, ``constant_data`` and optionally
        ``posterior_predictive``; attributes record scheme, priors, seed and version.

    Raises
    ------
    ValueError
        For an unknown scheme, bad sizes, or priors that leave the posterior improper.
    """
    data, formula_slopes, formula_factors = _resolve_data(data_or_formula, data, trials)
    if slopes is not None and formula_slopes:
        raise ValueError("give the varying slopes once: in the formula or as slopes=")
    if factors is not None and formula_factors:
        raise ValueError("give the grouping factors once: in the formula or as factors=")
    slopes = tuple(slopes if slopes is not None else formula_slopes)
    factors = factors if factors is not None else (formula_factors or None)
    family = normalize_family(family)
    if factors is not None and slopes:
        raise ValueError("varying slopes with further grouping factors are not built yet")
    if factors is not None:
        if family != "gaussian":
            raise ValueError(
                f"further grouping factors are built for the Gaussian family only, not {family!r}"
            )
        schemes, default = COMPONENTS_SCHEMES, DEFAULT_COMPONENTS_SCHEME
    elif slopes:
        if family != "gaussian":
            raise ValueError(
                f"varying slopes are built for the Gaussian family only, not {family!r}"
            )
        schemes, default = SLOPES_SCHEMES, DEFAULT_SLOPES_SCHEME
    else:
        schemes, default = FAMILY_SCHEMES[family], DEFAULT_SCHEMES[family]
    scheme = default if scheme is None else scheme
    if scheme not in schemes:
        raise ValueError(
            f"unknown scheme {scheme!r} for the {family} family; choose one of {sorted(schemes)}"
        )
    return sample_sweep(
        data,
        schemes[scheme],
        scheme,
        priors,
        family=family,
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
        slopes=slopes,
        factors=factors,
    )


def _resolve_data(data_or_formula: Any, data: Any, trials: Any) -> tuple:
    """Return (HierarchicalData, varying slopes, further factors) of a call to :func:`sample`."""
    from gibbs.formula import is_formula, parse_formula

    if is_formula(data_or_formula):
        return parse_formula(data_or_formula, data, trials=trials)
    if data_or_formula is not None and data is not None:
        raise ValueError("pass the data once: sample(hdata) or sample(formula, data=df)")
    data = data_or_formula if data_or_formula is not None else data
    if not isinstance(data, HierarchicalData):
        raise ValueError(
            "sample needs a HierarchicalData, or a formula string and data=DataFrame; got "
            f"{type(data).__name__}"
        )
    if trials is not None:
        raise ValueError("trials= goes with a formula; for HierarchicalData set its trials")
    return data, (), {}


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
    family: str = "gaussian",
    slopes: Sequence[str] = (),
    factors: Mapping[str, Any] | None = None,
):
    """Run an explicit sweep of blocks (for testing samplers, e.g. the mutants).

    Same parameters and output as :func:`sample`, with the scheme given as the sequence of
    ``update(streams, state, model) -> state`` blocks and a ``label`` recorded as its name.
    """
    for name, value, low in [
        ("draws", draws, 1),
        ("tune", tune, 0),
        ("chains", chains, 1),
        ("thin", thin, 1),
    ]:
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    family = normalize_family(family)
    if slopes:
        priors = priors if priors is not None else SlopesPriors()
        if not isinstance(priors, SlopesPriors):
            raise ValueError(
                "varying slopes need SlopesPriors (a prior on the covariance matrix Sigma), got "
                f"{type(priors).__name__}"
            )
        model = SlopesModel(data, tuple(slopes), priors)
    elif isinstance(priors, SlopesPriors):
        raise ValueError("SlopesPriors go with varying slopes (slopes= or '(1 + x | g)')")
    elif factors is not None:
        priors = priors if priors is not None else default_priors(family)
        model = ComponentsModel(data, make_factors(data, factors), priors)
    else:
        priors = priors if priors is not None else default_priors(family)
        model = (
            GaussianModel(data, priors)
            if family == "gaussian"
            else BinomialModel(data, priors, family)
        )
    keep_alpha = _alpha_indices(data, store_alpha)
    master, chain_seqs = chain_seed_sequences(seed, chains)
    streams = ChainStreams(chain_seqs)
    if slopes:
        state = initial_state_slopes(model, streams, init)
    elif factors is not None:
        state = initial_state_components(model, streams, init)
    elif family == "gaussian":
        state = initial_state(model, streams, init)
    else:
        state = initial_state_binomial(model, streams, init)
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
        "family": family,
        "priors": repr(priors),
        **({"slopes": list(slopes)} if slopes else {}),
        **({"factors": [f.name for f in model.factors]} if factors is not None else {}),
        "seed_entropy": str(master.entropy),
        "draws": kept,
        "tune": tune,
        "thin": thin,
        "chains": chains,
        **timings,
    }
    if factors is not None or slopes:
        convert = components_inference_data if factors is not None else slopes_inference_data
        return convert(
            model,
            store,
            keep_alpha,
            attrs,
            log_likelihood=log_likelihood,
            predictive_rngs=streams.predictive if posterior_predictive else None,
        )
    from gibbs.inference_data import to_inference_data

    return to_inference_data(
        data,
        store,
        keep_alpha,
        attrs,
        log_likelihood=log_likelihood,
        predictive_rngs=streams.predictive if posterior_predictive else None,
        family=family,
    )
