"""``gibbs.sample``: specify the model, pick its scheme, run the driver, return InferenceData."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gibbs.arguments import (
    alias,
    as_seed,
    check_dtype,
    check_idata_kwargs,
    check_init,
    check_memory,
    check_var_names,
)
from gibbs.convergence import check as check_convergence
from gibbs.data import HierarchicalData, check_conditioning
from gibbs.driver import Progress, alpha_indices, check_lengths, run
from gibbs.families import get_family
from gibbs.formula import is_formula
from gibbs.inference_data import name_outcome
from gibbs.pooled import has_group_term, sample_pooled
from gibbs.priors import Priors, SlopesPriors
from gibbs.spec import ModelSpec, as_spec, specify
from gibbs.standardise import back_transform, plan
from gibbs.streams import ChainStreams, chain_seed_sequences
from gibbs.structures import as_blocks, implementation, structure_of
from gibbs.structures.base import Recorder
from gibbs.version import __version__

__all__ = [
    "DEFAULT_SCHEME",
    "DEFAULT_SCHEMES",
    "default_scheme",
    "sample",
    "sample_batch",
    "sample_spec",
    "sample_sweep",
]

# The scheme with the most effective samples per second on radon, per family
# (docs/benchmarks.md), for varying intercepts.
DEFAULT_SCHEMES = {"gaussian": "marginal", "logistic": "collapsed", "probit": "collapsed"}
DEFAULT_SCHEME = DEFAULT_SCHEMES["gaussian"]


def default_scheme(
    family: str = "gaussian", slopes: Sequence[str] = (), factors: Mapping | None = None
) -> str:
    """Return the scheme :func:`sample` uses when none is given, for this kind of model."""
    fam = get_family(family)
    return implementation(structure_of(slopes, factors), fam).default_scheme(fam)


def sample(
    data_or_formula: HierarchicalData | str | ModelSpec | None = None,
    priors: Priors | SlopesPriors | None = None,
    scheme: str | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    thin: int = 1,
    seed: int | np.random.SeedSequence | Sequence[int] | None = None,
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
    compute_convergence_checks: bool = True,
    random_seed: int | np.random.SeedSequence | np.random.Generator | Sequence[int] | None = None,
    initvals: Mapping[str, Any] | None = None,
    var_names: Sequence[str] | None = None,
    idata_kwargs: Mapping[str, Any] | None = None,
):
    """Sample the varying-intercept (or varying-slopes) model by Gibbs sampling.

    ``gibbs.sample(hdata)``, ``gibbs.sample(data=hdata)`` or, with a formula in the lme4/bambi
    syntax, ``gibbs.sample("log_radon ~ floor + log_uranium + (1 | county)", data=df)``.

    Parameters
    ----------
    data_or_formula : HierarchicalData, str or ModelSpec
        A :class:`gibbs.spec.ModelSpec` from :func:`gibbs.specify` (then nothing else about the
        model may be given), the data, or a formula ``"y ~ terms + (1 | group)"`` evaluated on
        the DataFrame ``data``
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
        ``"blocked"`` (and, for Gaussian slopes, ``"componentwise"``); see :mod:`gibbs.slopes`,
        :mod:`gibbs.factors` and, for the combinations served by the general kernel
        (:data:`gibbs.structures.IMPLEMENTATIONS`), :mod:`gibbs.structures.mixed`.
    draws, tune : int
        Kept draws per chain, and warm-up iterations discarded before them.
    chains : int
        Number of chains (updated together, vectorised in numpy).
    thin : int
        Keep every ``thin``-th iteration after warm-up.
    seed : int, SeedSequence, Generator or sequence of them, optional
        Master seed; chain k uses child k, so its draws do not depend on ``chains``. ``None``
        draws fresh entropy, recorded in the output's attributes. A list of ``chains`` seeds (as
        PyMC's ``random_seed`` list) gives chain k seed k's own sequence. A ``Generator`` gives
        one integer drawn from it (it advances), as in PyMC.
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
        Columns of ``data.X`` whose coefficients vary by group besides the intercept: the
        varying-slopes model of :mod:`gibbs.slopes`, with ``priors`` a
        :class:`gibbs.priors.SlopesPriors`. A formula says the same with ``(1 + x | group)``.
    compute_convergence_checks : bool
        After the run, compute R-hat and bulk/tail ESS of every parameter
        (:mod:`gibbs.convergence`), store the report in ``posterior.attrs["convergence"]`` and
        warn (:class:`gibbs.convergence.ConvergenceWarning`) if R-hat > 1.01 or an ESS is below
        100 per chain, naming the worst parameters. ``False`` skips it, as in PyMC.
    random_seed, initvals : optional
        PyMC's names for ``seed`` and ``init`` (give one of each pair).
    var_names : list of str, optional
        Keep only these posterior variables (PyMC's ``var_names``); checked before sampling.
        The pointwise log-likelihood and replicated data are computed from every parameter
        whatever is kept.
    idata_kwargs : mapping, optional
        PyMC's ``idata_kwargs``; ``{"log_likelihood": False}`` is ``log_likelihood=False``
        (the only key a Gibbs run takes: any other is refused).
    factors : mapping of str to array_like, optional
        Further grouping factors, one label per row each: a factor constant
        within every group is nested above the groups (``{"state": ...}`` for house < county <
        state), any other is crossed (:mod:`gibbs.factors`). Scale priors:
        ``Priors(factor_scales={name: prior})`` (or ``SlopesPriors(factor_scales=...)``).
        Every structure goes with every family (``gibbs-suite data --capabilities``).

    Returns
    -------
    arviz.InferenceData
        ``posterior`` (alpha, beta, gamma, sigma_y (Gaussian only), sigma_alpha; with varying
        slopes also gamma_slope and the correlations rho_alpha),
        ``sample_stats`` (lp),
        ``log_likelihood``, ``observed_data``, ``constant_data`` and optionally
        ``posterior_predictive``, the outcome named after its column (``y`` for arrays);
        attributes record scheme, priors, seed and version.

    Raises
    ------
    ValueError
        For an unknown scheme, bad sizes, or priors that leave the posterior improper.
    """
    seed = alias("seed", seed, "random_seed", random_seed)
    init = alias("init", init, "initvals", initvals)
    log_likelihood = check_idata_kwargs(idata_kwargs).get("log_likelihood", log_likelihood)
    if is_formula(data_or_formula) and not has_group_term(data_or_formula):
        # No group term: complete pooling, a Bayesian regression (gibbs.pooled).
        return sample_pooled(
            data_or_formula,
            data,
            priors=priors,
            draws=draws,
            tune=tune,
            chains=chains,
            thin=thin,
            seed=seed,
            progressbar=progressbar,
            log_likelihood=log_likelihood,
            scheme=scheme,
            init=init,
            store_alpha=store_alpha,
            posterior_predictive=posterior_predictive,
            family=family,
            trials=trials,
            slopes=slopes,
            factors=factors,
            var_names=var_names,
        )
    spec = as_spec(
        data_or_formula,
        data,
        family=family,
        priors=priors,
        slopes=slopes,
        factors=factors,
        trials=trials,
    )
    schemes = spec.schemes()
    scheme = spec.default_scheme if scheme is None else scheme
    if scheme not in schemes:
        raise ValueError(
            f"unknown scheme {scheme!r} for the {spec.family.name} family; choose one of "
            f"{sorted(schemes)}"
        )
    idata = sample_spec(
        spec,
        schemes[scheme],
        scheme,
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
        compute_convergence_checks=compute_convergence_checks,
        var_names=var_names,
    )
    if isinstance(data_or_formula, str):
        # gibbs.predict re-reads new rows with the fit's formula.
        idata.posterior.attrs["formula"] = data_or_formula
        if isinstance(trials, str):
            idata.posterior.attrs["trials_column"] = trials
    return idata


def sample_spec(
    spec: ModelSpec,
    sweep: Sequence[Callable],
    label: str,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    thin: int = 1,
    seed: int | np.random.SeedSequence | Sequence[int] | None = None,
    init: Mapping[str, Any] | None = None,
    progressbar: bool = True,
    store_alpha: bool | Sequence[Any] = True,
    dtype: Any = np.float64,
    log_likelihood: bool = True,
    posterior_predictive: bool = False,
    compute_convergence_checks: bool = True,
    var_names: Sequence[str] | None = None,
):
    """Run a sweep of blocks on a :class:`gibbs.spec.ModelSpec` and return its InferenceData."""
    check_lengths(draws, tune, chains, thin)
    dtype = check_dtype(dtype)
    check_init(init)
    seed = as_seed(seed, chains)
    if var_names is not None:
        var_names = check_var_names(
            var_names, _posterior_names(spec, sweep, label, init, chains, store_alpha, dtype)
        )
    user_spec, std = spec, plan(spec)
    if std is not None:
        if init:
            raise ValueError(
                "init cannot be given when predictors are standardised internally ("
                f"{std.describe()}); centre and scale X yourself to pass initial values"
            )
        spec = std.spec
    check_conditioning(spec.data)
    impl, model = spec.implementation, spec.model
    wanted = alpha_indices(spec.data, store_alpha)
    # The pointwise log-likelihood and replicated data need every group's draws: record them
    # all and keep the requested ones only in the output.
    full = np.arange(spec.data.n_groups)
    keep_alpha = full if log_likelihood or posterior_predictive else wanted
    _check_output_memory(
        spec, keep_alpha, draws, chains, dtype, log_likelihood, posterior_predictive
    )
    master, chain_seqs = chain_seed_sequences(seed, chains)
    streams = ChainStreams(chain_seqs)
    state = impl.initial_state(model, streams, init)
    progress = Progress(tune + draws * thin, f"Gibbs ({label}, {chains} chains)", progressbar)
    block_stats: dict[str, np.ndarray] = {}
    store, kept, timings = run(
        model,
        as_blocks(sweep),
        state,
        streams,
        draws=draws,
        tune=tune,
        thin=thin,
        recorder=impl.recorder(model, keep_alpha, dtype),
        dtype=dtype,
        progress=progress,
        stats=block_stats,
    )
    if kept == 0:
        raise KeyboardInterrupt("sampling interrupted before the first kept draw")
    attrs = _attrs(spec, label, master, kept, tune, thin, chains, timings)
    idata = impl.to_idata(
        model,
        store,
        keep_alpha,
        attrs,
        log_likelihood=log_likelihood,
        predictive_rngs=streams.predictive if posterior_predictive else None,
    )
    for name, values in block_stats.items():
        # sample_stats shares the posterior's chain and draw coordinates.
        idata.sample_stats[name] = (("chain", "draw"), values)
    if std is not None:
        back_transform(idata, std, user_spec.data)
    if wanted.size != keep_alpha.size:
        dim = spec.data.group_dim
        idata.posterior = idata.posterior.isel({dim: wanted})
    if var_names is not None:
        idata.posterior = idata.posterior[var_names]
    if compute_convergence_checks:
        check_convergence(idata)
    return name_outcome(idata, user_spec.data.y_name)


def _posterior_names(spec, sweep, label, init, chains, store_alpha, dtype) -> list[str]:
    """Return the posterior variables a run of ``spec`` gives, from one throwaway sweep.

    Each structure names its output in its own ``to_idata``; one sweep on a stream of its own
    is the one source of truth, and costs a sweep, not a run (same chains: ``init`` may hold
    one value per chain).
    """
    probe = sample_spec(
        spec,
        sweep,
        label,
        draws=1,
        tune=0,
        chains=chains,
        seed=np.random.SeedSequence(0),
        init=init,
        progressbar=False,
        store_alpha=store_alpha,
        dtype=dtype,
        log_likelihood=False,
        compute_convergence_checks=False,
    )
    return list(probe.posterior.data_vars)


def _check_output_memory(spec, keep_alpha, draws, chains, dtype, log_likelihood, predictive):
    """Refuse before sampling an output that cannot fit in memory, naming what shrinks it."""
    d = spec.data
    cells = draws * chains
    size = np.dtype(dtype).itemsize
    per_draw = keep_alpha.size * spec.K + d.p + d.q * spec.K + 4 + spec.K**2
    # The pointwise log-likelihood is float64 with a temporary of its size while computed.
    parts = [
        ("posterior", cells * per_draw * max(size, 8), "store_alpha=False or fewer draws"),
        ("log_likelihood", 2 * cells * d.n * 8 * log_likelihood, "log_likelihood=False"),
        ("posterior_predictive", cells * d.n * 8 * predictive, "posterior_predictive=False"),
    ]
    check_memory(parts)


def _attrs(spec, label, master, kept, tune, thin, chains, timings) -> dict[str, Any]:
    """Return the output's attributes: library, scheme, model, seed and run settings."""
    return {
        "inference_library": "gibbs-suite",
        "inference_library_version": __version__,
        "scheme": label,
        "family": spec.family.name,
        "priors": repr(spec.priors),
        **spec.implementation.attrs(spec.model),
        "seed_entropy": str(master.entropy),
        "draws": kept,
        "tune": tune,
        "thin": thin,
        "chains": chains,
        **timings,
    }


def _without_log_density(store: dict[str, np.ndarray], kept: int) -> dict[str, np.ndarray]:
    """Fill ``lp`` with NaN: a batch's log density is not computed (nothing ranks it)."""
    chains = next(iter(store.values())).shape[0]
    return {**store, "lp": np.full((chains, kept), np.nan)}


def sample_batch(
    spec: ModelSpec,
    Y: np.ndarray,
    sweep: Sequence[Callable],
    label: str = "batch",
    *,
    seeds: Sequence[int | np.random.SeedSequence],
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    thin: int = 1,
    init: Mapping[str, Any] | None = None,
):
    """Sample ``spec``'s model for many outcome vectors at once, each as :func:`sample` would.

    Replication r (outcomes ``Y[r]``) runs ``chains`` chains on the streams of ``seeds[r]``
    (:func:`gibbs.streams.chain_seed_sequences`), from the structure's initial values for its
    own outcomes, through the same driver loop, warm-up, thinning and output code as
    :func:`sample`; all replications' chains are updated together. Used by the simulation-based
    calibration, so that it checks the public path.

    Returns
    -------
    xarray.Dataset
        The posterior with ``len(Y) * chains`` chains, replication-major (chain ``r * chains +
        c`` is replication r's chain c). Replication r's chains equal ``sample(spec with y =
        Y[r], seed=seeds[r], chains=chains, ...)``'s up to the floating-point path, except that
        the fully collapsed scheme draws fewer iterations ahead when many chains share a batch.
    """
    check_lengths(draws, tune, chains, thin)
    Y = np.asarray(Y, dtype=float)
    if Y.ndim != 2 or Y.shape[1] != spec.data.n or len(seeds) != Y.shape[0]:
        raise ValueError(f"Y must be (replications, {spec.data.n}) with one seed per replication")
    impl = spec.implementation
    children, starts = [], []
    for y, seed in zip(Y, seeds, strict=True):
        _, seqs = chain_seed_sequences(seed, chains)
        children += seqs
        # The replication's own model: initial values from its outcomes, as sample() takes them.
        own = spec.replace(data=spec.data.replace(y=y)).model
        starts.append(impl.initial_state(own, ChainStreams(seqs), init))
    state = type(starts[0])(
        *[None if p[0] is None else np.concatenate(p) for p in zip(*starts, strict=True)]
    )
    model = spec.model.with_outcomes(np.repeat(Y, chains, axis=0))
    streams = ChainStreams(children)
    keep = np.arange(spec.data.n_groups)
    recorder = impl.recorder(model, keep, np.float64)
    store, kept, timings = run(
        model,
        as_blocks(sweep),
        state,
        streams,
        draws=draws,
        tune=tune,
        thin=thin,
        recorder=Recorder(
            record=lambda st: {k: v for k, v in recorder.record(st).items() if k != "lp"},
            finalize=_without_log_density,
            float_names=(),
        ),
    )
    master = np.random.SeedSequence(0)
    attrs = _attrs(spec, label, master, kept, tune, thin, len(children), timings)
    idata = impl.to_idata(model, store, keep, attrs, log_likelihood=False, predictive_rngs=None)
    return idata.posterior


def sample_sweep(
    data: HierarchicalData,
    sweep: Sequence[Callable],
    label: str,
    priors: Priors | SlopesPriors | None = None,
    *,
    family: str = "gaussian",
    slopes: Sequence[str] = (),
    factors: Mapping[str, Any] | None = None,
    **kwargs: Any,
):
    """Run an explicit sweep of blocks (for testing samplers, e.g. the mutants).

    Same parameters and output as :func:`sample`, with the scheme given as the sequence of
    ``update(streams, state, model) -> state`` blocks and a ``label`` recorded as its name.
    """
    check_lengths(
        kwargs.get("draws", 1000),
        kwargs.get("tune", 1000),
        kwargs.get("chains", 4),
        kwargs.get("thin", 1),
    )
    spec = specify(data, family=family, priors=priors, slopes=slopes or None, factors=factors)
    return sample_spec(spec, sweep, label, **kwargs)
