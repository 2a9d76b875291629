"""Driver conformance: what no posterior test can see, checked exactly on the public path.

A posterior comparison cannot tell a sampler that keeps warm-up draws, thins by the wrong step,
gives two chains the same stream, or labels group 3's draws as group 4's, from a correct one
that mixes a little worse: the bias is small or the error is only overstated ESS. These checks
run the configuration's sweep through :func:`gibbs.sampling.sample_spec` (the loop of
:func:`gibbs.sample`) with *probe blocks* that record the state after every sweep and count the
sweeps, and compare the returned InferenceData with what the loop must have kept, bit for bit:

=====================  ======================================================================
``sweeps``             tune + draws x thin sweeps run, no more, no fewer
``kept draws``         draw k is the state after sweep tune + (k + 1) thin (warm-up dropped,
                       thinning right), every stored variable, labels looked up by name
``public call``        ``gibbs.sample`` gives the probed run's draws (the probes consume no
                       randomness), so the checks hold for the public call too
``chain count``        chain k's draws do not depend on the number of chains
``other streams``      chain k's draws do not depend on the other chains' seeds
``distinct streams``   no two chains are equal, and seed s's chain 1 differs from seed s + 1's
                       chain 0 (streams of neighbouring seeds do not overlap)
``reproducible``       the same seed gives bit-identical draws
``labels``             the coordinates are the data's group and predictor labels, in order;
                       observed data are the data's outcomes
``init``               initial values given by ``init`` are the state before the first sweep
=====================  ======================================================================

:func:`conformance` runs them for a spec and a sweep (a scheme or a mutant);
:func:`sampler_conformance` runs those that apply to any sampler callable
``(data, seed, draws, chains) -> InferenceData`` (reproducible, distinct streams, chain count,
labels, shapes).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gibbs.structures.base import Block, as_blocks

__all__ = ["ConformanceResult", "conformance", "sampler_conformance"]

# A short run with warm-up and thinning that cannot cancel out (tune is not a multiple of thin).
DRAWS, TUNE, THIN, CHAINS, SEED = 6, 7, 3, 3, 11


@dataclass
class ConformanceResult:
    """Outcome of the conformance checks: one row per check (passed, detail)."""

    table: pd.DataFrame

    @property
    def passed(self) -> bool:
        """Whether every check that applies passed."""
        return bool(self.table["passed"].all())

    def __str__(self) -> str:
        failed = self.table.index[~self.table["passed"]].tolist()
        verdict = "PASS" if self.passed else "FAIL"
        tail = f"; failed: {', '.join(failed)}" if failed else ""
        return f"driver conformance: {verdict} ({len(self.table)} checks{tail})"


class _Probe:
    """Blocks that record the state before the first sweep and after every sweep."""

    def __init__(self, record: Callable[[Any], dict[str, np.ndarray]]) -> None:
        self.record = record
        self.first: dict[str, np.ndarray] | None = None
        self.after: list[dict[str, np.ndarray]] = []

    def sweep(self, sweep: Sequence) -> tuple[Block, ...]:
        def before(streams, state, model):
            if self.first is None:
                self.first = _copy(self.record(state))
            return state

        def after(streams, state, model):
            self.after.append(_copy(self.record(state)))
            return state

        return (Block("probe_before", before), *as_blocks(sweep), Block("probe_after", after))


def _copy(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.array(v, copy=True) for k, v in values.items()}


def _posterior_arrays(idata, spec) -> dict[str, np.ndarray]:
    """Posterior variables as arrays (chain, draw, ...), groups ordered as the data's labels."""
    post = idata.posterior
    dim = spec.data.group_dim
    out = {}
    for name, da in post.data_vars.items():
        if dim in da.dims:  # look up by label: a scrambled coordinate shows as wrong values
            da = da.sel({dim: list(spec.data.group_names)}).transpose("chain", "draw", dim, ...)
        out[name] = np.asarray(da.values)
    return out


def _row(rows: list, name: str, passed: bool, detail: str) -> None:
    rows.append({"check": name, "passed": bool(passed), "detail": detail})


def conformance(
    spec,
    sweep: Sequence | None = None,
    *,
    scheme: str | None = None,
    draws: int = DRAWS,
    tune: int = TUNE,
    thin: int = THIN,
    chains: int = CHAINS,
    seed: int = SEED,
) -> ConformanceResult:
    """Run the driver conformance checks of ``sweep`` (default: ``scheme`` of ``spec``).

    Parameters
    ----------
    spec : gibbs.spec.ModelSpec
        The configuration (its data, family and structure).
    sweep : sequence of blocks, optional
        The sweep under test (a mutant's); defaults to the scheme's.
    scheme : str, optional
        The scheme under test (default: the spec's default); the ``public call`` check runs
        ``gibbs.sample`` with it.
    draws, tune, thin, chains, seed : int
        The short run's settings.
    """
    import gibbs
    from gibbs.sampling import sample_spec

    scheme = scheme or spec.default_scheme
    public = sweep is None
    sweep = tuple(spec.schemes()[scheme]) if sweep is None else tuple(sweep)
    impl, model = spec.implementation, spec.model
    all_groups = np.arange(spec.data.n_groups)
    recorder = impl.recorder(model, all_groups, np.float64)
    rows: list[dict[str, Any]] = []

    def run(sw, **kw):
        settings = {"draws": draws, "tune": tune, "thin": thin, "chains": chains, "seed": seed}
        settings.update(kw)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # ArviZ: more chains than draws
            return sample_spec(
                spec,
                sw,
                "conformance",
                progressbar=False,
                log_likelihood=False,
                compute_convergence_checks=False,
                **settings,
            )

    probe = _Probe(recorder.record)
    probed = run(probe.sweep(sweep))
    total = tune + draws * thin
    _row(
        rows,
        "sweeps",
        len(probe.after) == total,
        f"{len(probe.after)} sweeps run for tune {tune} + draws {draws} x thin {thin} = {total}",
    )
    post = _posterior_arrays(probed, spec)
    kept = [tune + (k + 1) * thin - 1 for k in range(draws)]
    mismatched, compared = [], []
    shapes_ok = all(v.shape[:2] == (chains, draws) for v in post.values())
    if len(probe.after) >= total and shapes_ok:
        for name, values in post.items():
            if name not in probe.after[0]:
                continue
            expected = np.stack([probe.after[i][name] for i in kept], axis=1)
            if (
                expected.size != values.size
                or np.squeeze(expected).shape != np.squeeze(values).shape
            ):
                continue
            expected = expected.reshape(values.shape)
            compared.append(name)
            if not np.array_equal(expected, values, equal_nan=True):
                mismatched.append(name)
    if len(probe.after) >= total and shapes_ok:
        # Every output variable: the kept states through the structure's own output code.
        store = {k: np.stack([probe.after[i][k] for i in kept], axis=1) for k in probe.after[0]}
        expected_idata = _to_idata(spec, recorder, store, draws, probed.posterior.attrs)
        if not _same(expected_idata, probed):
            mismatched.append("the output built from the kept states")
        compared.append("every output variable")
    _row(
        rows,
        "kept draws",
        shapes_ok and bool(compared) and not mismatched,
        (
            f"posterior shaped (chain, draw) = ({chains}, {draws}): {shapes_ok}; compared "
            f"{', '.join(compared) or 'nothing'} with the states after sweeps "
            f"{kept[0]}, {kept[1]}, ...; mismatched: {', '.join(mismatched) or 'none'}"
        ),
    )
    plain = run(sweep)
    if public:
        with np.errstate(all="ignore"):
            public_run = gibbs.sample(
                spec,
                scheme=scheme,
                draws=draws,
                tune=tune,
                thin=thin,
                chains=chains,
                seed=seed,
                progressbar=False,
                compute_convergence_checks=False,
                log_likelihood=False,
            )
        same = _same(public_run, probed)
        _row(rows, "public call", same, "gibbs.sample gives the probed run's draws: " + str(same))
    same = _same(plain, probed)
    _row(rows, "probes are inert", same, "the probe blocks change no draw: " + str(same))

    fewer = [run(sweep, chains=c) for c in range(1, chains)]
    ok = all(_chains_equal(f, plain, range(f.posterior.sizes["chain"])) for f in fewer)
    _row(rows, "chain count", ok, f"chains 0..c-1 of a {chains}-chain run equal c-chain runs")

    seeds_a = [seed, seed + 100, seed + 200]
    seeds_b = [seed + 300, seed + 100, seed + 400]
    a, b = run(sweep, chains=3, seed=seeds_a), run(sweep, chains=3, seed=seeds_b)
    ok = _chains_equal(a, b, [1]) and not _chains_equal(a, b, [0])
    _row(rows, "other streams", ok, "chain 1 keeps its draws when chains 0 and 2 change seed")

    next_seed = run(sweep, seed=seed + 1)
    pairs = [(i, j) for i in range(chains) for j in range(i + 1, chains)]
    equal_pairs = [(i, j) for i, j in pairs if _chain_pair_equal(plain, i, plain, j)]
    overlap = chains > 1 and _chain_pair_equal(plain, 1, next_seed, 0)
    same_first = _chain_pair_equal(plain, 0, next_seed, 0)
    _row(
        rows,
        "distinct streams",
        not equal_pairs and not overlap and not same_first,
        f"equal chains within a run: {equal_pairs or 'none'}; seed {seed} chain 1 = seed "
        f"{seed + 1} chain 0: {overlap}; chain 0 unchanged by the seed: {same_first}",
    )
    again = run(sweep)
    same = _same(again, plain)
    _row(rows, "reproducible", same, f"two runs with seed {seed} bit-identical: {same}")

    _row(rows, "labels", *_labels(plain, spec))

    last = {k: v[0] for k, v in probe.after[-1].items()} if probe.after else {}
    _row(rows, "init", *_init_check(spec, sweep, plain, last, run, recorder))
    return ConformanceResult(pd.DataFrame(rows).set_index("check"))


def _to_idata(spec, recorder, store: dict[str, np.ndarray], kept: int, attrs: dict):
    """Return the InferenceData the structure's output code makes of recorded states."""
    store = recorder.finalize(dict(store), kept)
    impl = spec.implementation
    return impl.to_idata(
        spec.model,
        store,
        np.arange(spec.data.n_groups),
        dict(attrs),
        log_likelihood=False,
        predictive_rngs=None,
    )


def _init_check(spec, sweep, plain, last, run, recorder) -> tuple[bool, str]:
    """Give a later draw of each variable as ``init``; it must be the state before sweep 1.

    Candidates: the posterior's variables (read back through the output code) and the
    recorded state's own (e.g. ``Sigma``, read back directly).
    """
    tried = {}
    for name, value in last.items():
        if name in plain.posterior.data_vars or name == "lp":
            continue
        try:
            probe = _Probe(recorder.record)
            run(probe.sweep(sweep), init={name: value}, tune=0, draws=1, thin=1)
        except (ValueError, KeyError, TypeError):
            continue
        got = None if probe.first is None else probe.first[name]
        tried[name] = got is not None and np.allclose(got, np.broadcast_to(value, got.shape))
    for name, da in plain.posterior.data_vars.items():
        value = np.asarray(da.isel(chain=0, draw=-1).values)
        try:
            probe = _Probe(recorder.record)
            run(probe.sweep(sweep), init={name: value}, tune=0, draws=1, thin=1)
        except (ValueError, KeyError, TypeError):
            continue  # not an initial value this structure takes
        if probe.first is None:
            tried[name] = False
            continue
        start = {k: v[:, None] for k, v in probe.first.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            first = _to_idata(spec, recorder, start, 1, plain.posterior.attrs)
        got = np.asarray(first.posterior[name].values)
        tried[name] = np.allclose(got, np.broadcast_to(value, got.shape), rtol=1e-10, atol=0)
    if not tried:
        return False, "no posterior variable is accepted as an initial value"
    bad = [k for k, ok in tried.items() if not ok]
    return not bad, f"init of {', '.join(tried)} honoured; ignored: {', '.join(bad) or 'none'}"


def _labels(idata, spec) -> tuple[bool, str]:
    d = spec.data
    problems = []
    post = idata.posterior
    if "alpha" in post and d.group_dim in post["alpha"].dims:
        got = [str(v) for v in post[d.group_dim].values]
        if got != [str(v) for v in d.group_names]:
            problems.append(f"{d.group_dim} coordinates are not the data's group labels")
    else:
        problems.append(f"alpha has no {d.group_dim} dimension")
    if d.p and "beta" in post:
        dim = [x for x in post["beta"].dims if x not in ("chain", "draw")]
        got = [str(v) for v in post[dim[0]].values] if dim else []
        # With varying slopes beta holds the predictors whose coefficients do not vary.
        fixed = [str(v) for v in d.x_names if v not in getattr(spec, "slopes", ())]
        if got != fixed:
            problems.append("beta's coordinates are not the data's predictor names")
    obs = getattr(idata, "observed_data", None)
    if obs is None or not obs.data_vars:
        problems.append("no observed_data group")
    else:
        y = np.asarray(next(iter(obs.data_vars.values())).values, float)
        if y.shape != d.y.shape or not np.array_equal(y, d.y):
            problems.append("observed_data differ from the data's outcomes")
    return not problems, "; ".join(problems) or "groups, predictors and observed data labelled"


def _same(a, b) -> bool:
    pa, pb = a.posterior, b.posterior
    if set(pa.data_vars) != set(pb.data_vars):
        return False
    return all(np.array_equal(pa[k].values, pb[k].values, equal_nan=True) for k in pa.data_vars)


def _chain_pair_equal(a, i: int, b, j: int) -> bool:
    return all(
        np.array_equal(
            a.posterior[k].isel(chain=i).values, b.posterior[k].isel(chain=j).values, equal_nan=True
        )
        for k in a.posterior.data_vars
    )


def _chains_equal(a, b, chains) -> bool:
    return all(_chain_pair_equal(a, c, b, c) for c in chains)


def sampler_conformance(
    sampler: Callable, data, *, draws: int = 50, chains: int = 3, seed: int = SEED
) -> ConformanceResult:
    """Run the checks that apply to any sampler ``(data, seed, draws, chains) -> idata``.

    Shapes (chains x draws), reproducibility, distinct chains, chain k unchanged by the number
    of chains (a convention of :func:`gibbs.sample` and PyMC; reported, not every sampler
    promises it) and labels. Warm-up and thinning need the sampler's sweep (:func:`conformance`).
    """
    from types import SimpleNamespace

    rows: list[dict[str, Any]] = []
    a, again = sampler(data, seed, draws, chains), sampler(data, seed, draws, chains)
    sizes = dict(a.posterior.sizes)
    _row(
        rows,
        "shape",
        sizes.get("chain") == chains and sizes.get("draw") == draws,
        f"posterior sizes {sizes} for {chains} chains x {draws} draws",
    )
    _row(rows, "reproducible", _same(a, again), "two runs with the same seed are bit-identical")
    pairs = [(i, j) for i in range(chains) for j in range(i + 1, chains)]
    equal_pairs = [(i, j) for i, j in pairs if _chain_pair_equal(a, i, a, j)]
    _row(rows, "distinct streams", not equal_pairs, f"equal chains: {equal_pairs or 'none'}")
    one = sampler(data, seed, draws, 1)
    _row(
        rows,
        "chain count",
        _chains_equal(one, a, [0]),
        "chain 0 of a one-chain run equals chain 0 of a multi-chain run",
    )
    _row(rows, "labels", *_labels(a, SimpleNamespace(data=data)))
    return ConformanceResult(pd.DataFrame(rows).set_index("check"))
