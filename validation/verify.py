"""``gibbs-suite verify``: every battery on one configuration, one table of verdicts.

A sampler is verified by four batteries, each blind to something the others see:

==============  ============================  ===============================================
battery         sees                          cannot see
==============  ============================  ===============================================
conformance     warm-up, thinning, chain      any error inside a sweep (the draws are not
                streams, labels, init, exact  judged, only where they go)
                reproducibility
compare         any error that moves the      errors of a size below its power on this one
                posterior of *this* data,     dataset; terms this design leaves inert
                through the public path
geweke          a sweep that does not leave   the driver and output (it drives the blocks);
                p(theta | y) invariant, on    errors that need more iterations than its run
                every design and stress
                setting
sbc             miscalibration of the whole   slow mixing passes as long as ranks stay
                fit (driver loop included)    uniform; errors of small size at its replications
==============  ============================  ===============================================

:func:`verify` runs them on a :class:`gibbs.spec.ModelSpec` and its sweep (a scheme, a mutant
of the catalogue, a driver mutant), or on any sampler callable
``sampler(data, seed, draws, chains) -> InferenceData`` (conformance of what a black box can
show, compare and SBC; Geweke's test needs the transition itself). ``compare`` takes the
configuration's stored golden reference when one was built from the same data, model and
priors, else a fresh NUTS fit, and lengthens the Gibbs run until its own Monte Carlo error is
at most half the reference's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BATTERY_SCOPE",
    "VerifyResult",
    "blame_run_under_test",
    "compare_lengthened",
    "exact_for",
    "fit_reference_lengthened",
    "fresh_reference",
    "golden_for",
    "reference_problems",
    "verify",
]

BATTERY_SCOPE = {
    "conformance": (
        "warm-up, thinning, chain streams, labels, init, reproducibility",
        "errors inside a sweep",
    ),
    "compare": (
        "errors that move this data's posterior, through the public path (against the exact "
        "posterior where the model has one); draws that break exact conditional identities "
        "(every family's group level, the Gaussian rows)",
        "errors below its power on one dataset; terms this design leaves inert",
    ),
    "geweke": (
        "a sweep that does not leave p(theta | y) invariant, every design and stress setting",
        "the driver and output; a black-box sampler",
    ),
    "sbc": (
        "miscalibrated fits over designs and stress settings",
        "slow mixing that keeps ranks uniform; errors smaller than its replications resolve",
    ),
}


@dataclass
class VerifyResult:
    """Verdicts of every battery: ``table`` has one row per battery."""

    table: pd.DataFrame
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether no battery failed (a battery that cannot run is not a pass or a fail)."""
        return not (self.table["verdict"] == "FAIL").any()

    def __str__(self) -> str:
        with pd.option_context("display.width", 160, "display.max_colwidth", 70):
            return self.table.to_string()


#: Quadrature nodes per axis of the coarse grid of an exact reference made for compare (the
#: fine grid has twice as many): a few seconds on radon, changes below 2e-4 posterior sds.
EXACT_NODES = 80


def exact_for(spec, nodes: int = EXACT_NODES):
    """Return the exact posterior of ``spec``'s model by quadrature, or None where it has none.

    The Gaussian varying-intercept model (two scales, any of their priors, flat or normal
    locations) has one (:func:`reference_models.exact.exact_posterior`): a reference without
    Monte Carlo error, so a comparison is limited by the run under test alone. None for other
    families and structures, a linear offset, a design whose two scales are not both identified,
    or a grid that did not converge (change between the grids above 1e-2 posterior sds, or
    mass above 1e-8 in the box's edge cells).
    """
    if (
        spec.family.name != "gaussian"
        or spec.implementation.name != "intercepts"
        or spec.data.offset is not None
    ):
        return None
    from reference_models.exact import exact_posterior

    try:
        ref = exact_posterior(spec.data, spec.priors, nodes=nodes)
    except (ValueError, np.linalg.LinAlgError):
        return None
    conv = ref.provenance["convergence"]
    if not (conv["max_change_over_sd"] < 1e-2 and conv["edge_mass"] < 1e-8):
        return None
    return ref


def golden_for(spec) -> tuple[str, Any] | None:
    """Return (name, golden) of the stored reference built from ``spec``'s model, if any.

    Matches the family, varying slopes, factors and priors, then the data summary
    (:func:`validation.golden.check_data`); goldens whose data need a download are skipped.
    """
    from validation.build_goldens import GOLDENS
    from validation.golden import check_data, load

    for name, g in GOLDENS.items():
        if not g.path.exists():
            continue
        golden = load(g.path)
        prov = golden.provenance
        # The file says which model it holds: only a candidate's data are loaded (some live
        # in data folders or downloads).
        if (
            prov.get("family", "gaussian") != spec.family.name
            or list(prov.get("slopes", [])) != list(spec.slopes)
            or sorted(prov.get("factors", [])) != sorted(spec.factor_labels)
        ):
            continue
        try:
            case = g.case()
            other = case.spec()
        except Exception:  # noqa: BLE001 - a golden whose case cannot be built here
            continue
        if (
            other.family.name != spec.family.name
            or tuple(other.slopes) != tuple(spec.slopes)
            or sorted(other.factor_labels) != sorted(spec.factor_labels)
            or repr(other.priors) != repr(spec.priors)
            or other.data.n != spec.data.n
            or other.data.x_names != spec.data.x_names
            or other.data.u_names != spec.data.u_names
        ):
            continue
        try:
            check_data(golden, spec.data, name=name)
        except ValueError:
            continue
        return name, golden
    return None


def _reference_mcse(reference, names: Sequence[str]) -> pd.DataFrame:
    if hasattr(reference, "summary_for"):
        return reference.summary_for(list(names))
    from validation.compare import summarize

    return summarize(reference.posterior[list(names)])


def reference_problems(reference, names: Sequence[str]) -> list[str]:
    """List what makes a NUTS reference unusable by compare's rules (empty when usable).

    R-hat above 1.01 or bulk/tail ESS below 400 for a compared parameter; a stored golden
    passed them when it was built and is always usable.
    """
    if hasattr(reference, "summary_for"):
        return []
    ref = _reference_mcse(reference, names)
    out = []
    if (ref["r_hat"] > 1.01).any():
        out.append(f"R-hat {ref['r_hat'].max():.3f} ({ref['r_hat'].idxmax()})")
    ess = ref[["ess_bulk", "ess_tail"]].min(axis=1)
    if (ess < 400).any():
        out.append(f"ESS {ess.min():.0f} ({ess.idxmin()})")
    return out


def fit_reference_lengthened(
    fit: Callable[[int], Any],
    names: Sequence[str],
    *,
    draws: int = 1000,
    max_draws: int = 4000,
    progress: Callable[[str], None] | None = None,
):
    """Fit a fresh NUTS reference with ``fit(draws)``; lengthen it while its own R-hat or ESS fail.

    NUTS is the costly side, so it is lengthened once by the factor its ESS says is needed (a
    power of two, up to ``max_draws`` per chain), and only when it had no divergences: longer
    runs do not remove a divergence, which says the geometry, not the length, is the problem.
    Returns (reference, draws per chain).
    """
    ref = fit(draws)
    problems = reference_problems(ref, names)
    if not problems or int(ref.sample_stats["diverging"].sum()) or 2 * draws > max_draws:
        return ref, draws
    ess = _reference_mcse(ref, names)[["ess_bulk", "ess_tail"]].to_numpy().min()
    factor = 2
    while factor * ess < 1.5 * 400 and 2 * factor * draws <= max_draws:
        factor *= 2
    if progress is not None:
        progress(
            f"reference: lengthened to {factor * draws} draws per chain (at {draws}: "
            f"{'; '.join(problems)})"
        )
    return fit(factor * draws), factor * draws


def fresh_reference(
    spec,
    engine: str,
    names: Sequence[str],
    *,
    draws: int = 1000,
    seed=None,
    progress: Callable[[str], None] | None = None,
    **options,
):
    """Fit ``spec``'s twin with ``engine``, lengthened up to 4 x ``draws`` if it fails its rules.

    ``options`` go to :func:`reference_models.reference.fit_spec` (tune, chains, progressbar,
    parameterization, ...). Returns (reference, draws per chain).
    """
    from reference_models.reference import fit_spec

    return fit_reference_lengthened(
        lambda n: fit_spec(spec, sampler=engine, draws=n, seed=seed, **options),
        names,
        draws=draws,
        max_draws=4 * draws,
        progress=progress,
    )


def compare_lengthened(
    run: Callable[[int], Any],
    reference,
    names: Sequence[str],
    *,
    draws: int = 1000,
    max_draws: int = 16000,
    ratio: float = 0.5,
    level: float = 0.01,
    progress: Callable[[str], None] | None = None,
    labels: tuple[str, str] | None = None,
    identities: Callable[[Any], Any] | None = None,
):
    """Compare ``run(draws)`` with ``reference``, doubling draws until Gibbs's MCSE is small.

    The run is lengthened while any compared statistic's MCSE exceeds ``ratio`` times the
    reference's, or its own R-hat or ESS fail the comparison's rules, up to ``max_draws``: by
    doubling, or by the power of two that the MCSE's 1 / sqrt(draws) says is needed. The
    sampler under test is cheap; the reference's error then dominates every z-score.
    ``identities(idata)``, when given, tests the final run's reference-free conditional
    identities (:func:`validation.identities.conditional_identities`, or None where none apply);
    a failure makes the verdict "disagree" whatever the reference. Returns (comparison, draws
    used).
    """
    from validation.compare import compare_posteriors, summarize

    ref = _reference_mcse(reference, names)
    # A reference that fails its own diagnostics makes the verdict inconclusive whatever the
    # run under test does: lengthening it would only cost time.
    usable = not reference_problems(reference, names)
    while True:
        if progress is not None:
            progress(f"compare: sampler under test at {draws} draws per chain")
        idata = run(draws)
        mine = summarize(idata.posterior[list(names)])
        cols = ["mcse_mean", "mcse_sd", "mcse_q05", "mcse_q95"]
        ref_aligned = ref.loc[mine.index, cols].to_numpy()
        too_noisy = np.any(mine[cols].to_numpy() > ratio * ref_aligned)
        diag_bad = bool(
            (mine["r_hat"] > 1.01).any() or (mine[["ess_bulk", "ess_tail"]] < 400).any().any()
        )
        if not usable or not (too_noisy or diag_bad) or 2 * draws > max_draws:
            break
        # MCSE falls as 1 / sqrt(draws): skip the doublings that cannot reach the target (each
        # doubling is a fresh run, so on a costly model the skipped ones are most of the time).
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.nanmax((mine[cols].to_numpy() / (ratio * ref_aligned)) ** 2)
        factor = 2
        while factor < need and 2 * factor * draws <= max_draws:
            factor *= 2
        draws *= factor
    labels = labels or ("sampler", "golden" if hasattr(reference, "summary_for") else "nuts")
    comparison = compare_posteriors(
        idata,
        reference,
        var_names=list(names),
        level=level,
        labels=labels,
        summaries=(mine, None if hasattr(reference, "summary_for") else ref),
    )
    if usable:
        blame_run_under_test(comparison, draws)
    check = identities(idata) if identities is not None else None
    if check is not None:
        comparison.settings["conditional_identities"] = check.line()
        if not check.passed:
            comparison.reasons.insert(
                0,
                "the stored draws break exact identities of the posterior's full conditionals: "
                + check.line().removeprefix("FAIL: "),
            )
            comparison.verdict = "disagree"
    return comparison, draws


def blame_run_under_test(comparison, draws: int) -> None:
    """Turn "inconclusive" into "disagree" when only the run under test is at fault.

    Against a usable reference, a run that still fails its own R-hat or ESS rules at the longest
    length allowed, whose chains are copies of each other, or whose draws do not move, is not an
    open question: a correct sampler of a shipped configuration converges well within that
    length (``docs/harness.md``). The reasons stay; the first one says what failed.
    """
    if comparison.verdict != "inconclusive":
        return
    mine, ref = comparison.labels
    if any(r.startswith(f"{ref}:") for r in comparison.reasons):
        return  # the reference is part of the problem
    table = comparison.table
    stuck = []
    if len(table) and f"sd_{mine}" in table:
        stuck = list(table.index[(table[f"sd_{mine}"] == 0) & (table[f"sd_{ref}"] > 0)])
    own = [r for r in comparison.reasons if r.startswith(f"{mine}:")]
    if not (own or stuck):
        return
    what = f"the draws of {stuck[0]} do not move" if stuck else "; ".join(own)
    comparison.reasons.insert(
        0,
        f"the sampler under test fails on its own at {draws} draws per chain, the longest run "
        f"allowed: {what}",
    )
    comparison.verdict = "disagree"


def _keeps_priors(design) -> bool:
    """Whether a design fits under the configuration's own priors."""
    return design.prior_scales is None and design.prior_family is None


def _plugin_sbc(spec, sampler, seed, level, replications, say) -> tuple[str, str]:
    """SBC of a black-box sampler on the designs that keep its priors (``spec.priors``)."""
    from validation.calibration import resumable_sbc
    from validation.designs import DESIGNS, SBC_DESIGNS, design_spec, designs_for
    from validation.sbc import CallableEngine

    proper = getattr(spec.priors, "is_proper", None)
    if proper is None or not proper(spec.family.name):
        return "N/A", "SBC simulates from the sampler's priors: give proper ones (--priors)"
    # A black box samples under its own priors: designs that rescale or replace them would
    # simulate from one prior and fit under another, a miscalibration of the harness, not of it.
    names = [d for d in SBC_DESIGNS if _keeps_priors(DESIGNS[d])]
    designs = designs_for(spec, names)
    each = level / len(designs)
    failed = []
    for k, design in enumerate(designs):
        say(f"sbc {k + 1}/{len(designs)}: design {design.name}, your sampler")
        d_spec = design_spec(spec, design, seed)
        engine = CallableEngine(sampler, family=spec.family.name)
        result = resumable_sbc(d_spec, engine, replications=replications, seed=seed, chunk=50)
        if not result.run(progressbar=False, level=each).passed:
            failed.append(design.name)
    detail = f"{len(designs)} designs x {replications} replications"
    return ("FAIL", f"{detail}; failed: {', '.join(failed)}") if failed else ("PASS", detail)


def _compare_verdict(comparison) -> tuple[str, str]:
    """PASS / FAIL / N/A with the reason: the sampler under test's own failures count."""
    if comparison.verdict == "agree":
        return "PASS", f"agree, max |z| = {comparison.max_abs_z():.2f}"
    if comparison.verdict == "disagree":
        return "FAIL", comparison.reasons[0]
    reasons = "; ".join(comparison.reasons)
    mine, ref = comparison.labels
    table = comparison.table
    if len(table) and f"sd_{mine}" in table:
        stuck = table.index[(table[f"sd_{mine}"] == 0) & (table[f"sd_{ref}"] > 0)]
        if len(stuck):
            return "FAIL", f"the sampler's draws of {stuck[0]} do not move; {reasons}"
    own = any(r.startswith(mine) for r in comparison.reasons)
    return ("FAIL" if own else "N/A"), ("does not converge: " if own else "") + reasons


def verify(
    spec,
    *,
    scheme: str | None = None,
    mutant: str | None = None,
    sampler: Callable | None = None,
    batteries: Sequence[str] = ("conformance", "compare", "geweke", "sbc"),
    seed: int = 1,
    level: float = 0.01,
    reference: str = "auto",
    replications: int = 1000,
    plugin_replications: int = 200,
    geweke_settings: dict | None = None,
    sbc_settings: dict | None = None,
    designs: dict | None = None,
    progress: Callable[[str], None] | None = None,
    fail_fast: bool = False,
) -> VerifyResult:
    """Run the batteries on ``spec``'s sampler; one row per battery.

    Parameters
    ----------
    spec : gibbs.spec.ModelSpec
        The configuration (build it inside a driver mutant's context to test that mutant).
    scheme, mutant : str, optional
        The sweep under test: a scheme of the spec, or a mutant of the catalogue.
    sampler : callable, optional
        Any sampler ``(data, seed, draws, chains) -> InferenceData`` instead of a sweep.
    batteries : sequence of str
        Which of conformance, compare, geweke and sbc to run.
    reference : {"auto", "golden", "nutpie", "pymc"}
        compare's reference: ``auto`` takes the golden when one matches, else nutpie.
    replications : int
        SBC replications per design and setting.
    plugin_replications : int
        SBC replications per design for a ``sampler`` (each is one call of it).
    geweke_settings, sbc_settings : dict, optional
        Passed to :func:`validation.batteries.geweke_designs` / ``sbc_designs``.
    designs : dict, optional
        ``{"geweke": [...], "sbc": [...]}`` design names (default: the libraries' defaults).
    fail_fast : bool
        Stop Geweke and SBC at their first failed run (a FAIL stays a FAIL; a PASS needs all).
    """
    from gibbs.sampling import sample_spec
    from reference_models.reference import compared_vars
    from validation.calibration import sweep_under_test
    from validation.conformance import conformance, sampler_conformance
    from validation.identities import conditional_identities

    say = progress or (lambda msg: None)
    sweep = None if sampler is not None else sweep_under_test(spec, scheme, mutant)
    label = mutant or scheme or spec.default_scheme
    rows, details = [], {}

    def add(battery, verdict, detail, seconds):
        sees, blind = BATTERY_SCOPE[battery]
        rows.append(
            {
                "battery": battery,
                "verdict": verdict,
                "detail": detail,
                "seconds": round(seconds, 1),
                "sees": sees,
                "cannot see": blind,
            }
        )

    if "conformance" in batteries:
        start = time.perf_counter()
        say("conformance: short runs with probe blocks")
        if sampler is not None:
            result = sampler_conformance(sampler, spec.data, seed=seed)
        else:
            result = conformance(spec, None if mutant is None else sweep, scheme=scheme)
        details["conformance"] = result
        failed = result.table.index[~result.table["passed"]].tolist()
        add(
            "conformance",
            "PASS" if result.passed else "FAIL",
            f"{len(result.table)} checks" + (f"; failed: {', '.join(failed)}" if failed else ""),
            time.perf_counter() - start,
        )

    if "compare" in batteries:
        start = time.perf_counter()
        names = compared_vars(spec)
        exact = exact_for(spec) if reference in ("auto", "exact") else None
        found = golden_for(spec) if exact is None and reference in ("auto", "golden") else None
        if (found, exact) == (None, None) and reference in ("golden", "exact"):
            add("compare", "N/A", f"no {reference} reference for this configuration", 0.0)
        else:
            if exact is not None:
                ref = exact
                names = [v for v in names if v in ref.var_names]
                source = "the exact posterior (quadrature)"
            elif found is not None:
                ref_name, ref = found
                names = [v for v in names if v in ref.var_names]
                source = f"golden {ref_name}"
            else:
                engine = "nutpie" if reference == "auto" else reference
                say(f"compare: fitting the twin with {engine}")
                ref, ref_draws = fresh_reference(
                    spec,
                    engine,
                    names,
                    seed=seed,
                    progress=lambda msg: say(f"compare: {msg}"),
                    progressbar=False,
                    log_likelihood=False,
                )
                source = f"fresh {engine} 4 x {ref_draws}"

            def run(draws: int):
                with np.errstate(all="ignore"):
                    if sampler is not None:
                        return sampler(spec.data, seed, draws, 8)
                    return sample_spec(
                        spec,
                        sweep,
                        label,
                        draws=draws,
                        chains=8,
                        seed=seed,
                        progressbar=False,
                        log_likelihood=False,
                        compute_convergence_checks=False,
                    )

            try:
                comparison, used = compare_lengthened(
                    run,
                    ref,
                    names,
                    level=level,
                    progress=say,
                    identities=lambda idata: conditional_identities(idata, spec, level / 10),
                )
            except (np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
                add("compare", "FAIL", f"the sampler crashed: {exc}", time.perf_counter() - start)
            else:
                details["compare"] = comparison
                verdict, why = _compare_verdict(comparison)
                add(
                    "compare",
                    verdict,
                    f"{why} (against {source}; 8 chains x {used} draws)",
                    time.perf_counter() - start,
                )

    for battery in ("geweke", "sbc"):
        if battery not in batteries:
            continue
        if sampler is not None and battery == "geweke":
            add("geweke", "N/A", "needs the sampler's transition (a scheme of named blocks)", 0.0)
            continue
        if sampler is not None:
            start = time.perf_counter()
            verdict, detail = _plugin_sbc(spec, sampler, seed, level, plugin_replications, say)
            add("sbc", verdict, detail, time.perf_counter() - start)
            continue
        from validation.batteries import geweke_designs, sbc_designs

        start = time.perf_counter()
        extra = dict((geweke_settings if battery == "geweke" else sbc_settings) or {})
        extra["fail_fast"] = fail_fast
        if designs and battery in designs:
            extra["designs"] = designs[battery]
        try:
            if battery == "geweke":
                result = geweke_designs(spec, sweep, level=level, seed=seed, progress=say, **extra)
            else:
                result = sbc_designs(
                    spec,
                    sweep,
                    level=level,
                    seed=seed,
                    replications=replications,
                    progress=say,
                    **extra,
                )
        except (np.linalg.LinAlgError, FloatingPointError) as exc:
            add(battery, "FAIL", f"the sampler crashed: {exc}", time.perf_counter() - start)
            continue
        details[battery] = result
        failed = [f"{d}/{s}" for d, s in result.table.index[~result.table["passed"]]]
        add(
            battery,
            "PASS" if result.passed else "FAIL",
            f"{len(result.table)} runs" + (f"; failed: {', '.join(failed)}" if failed else ""),
            time.perf_counter() - start,
        )
    return VerifyResult(pd.DataFrame(rows).set_index("battery"), details)
