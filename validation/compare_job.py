"""The main job: the Gibbs posterior against its PyMC twin and the pooling baselines."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gibbs.data import HierarchicalData

__all__ = ["SamplerFailure", "run_compare", "run_mutants"]


def _multilevel_coefficient(post, name: str) -> float:
    """Posterior mean of a predictor's coefficient: its mean slope if it varies, else beta."""
    if "gamma_slope" in post and name in list(post["slope"].values):
        return float(post["gamma_slope"].sel(slope=name).mean())
    return float(post["beta"].sel(x_coef=name).mean())


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, flush=True)


def _baselines(data: HierarchicalData, gibbs_idata, family) -> tuple[pd.DataFrame, Any]:
    """Complete and no pooling (the family's classical fits) beside the multilevel means."""
    import warnings

    from reference_models.pooling import pooling_baselines

    post = gibbs_idata.posterior
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # reported in the table's note
        cp, npf = pooling_baselines(data, family)
    rows = [
        {
            "coefficient": name,
            "complete pooling": cp.coef.loc[name, "estimate"],
            "no pooling": npf.coef.loc[name, "estimate"],
            "multilevel (Gibbs)": _multilevel_coefficient(post, name),
        }
        for name in data.x_names
    ]
    rows += [  # the family's dispersion (sigma_y): the residual sd of the pooled fits
        {
            "coefficient": name,
            "complete pooling": cp.sigma,
            "no pooling": npf.sigma,
            "multilevel (Gibbs)": float(post[name].mean()),
        }
        for name in family.dispersion
    ]
    table = pd.DataFrame(
        rows, columns=["coefficient", "complete pooling", "no pooling", "multilevel (Gibbs)"]
    ).set_index("coefficient")
    # The count fits label their own notes (complete and no pooling each report overdispersion).
    labelled = [
        n for n in (*cp.notes, *npf.notes) if n.startswith(("complete pooling", "no pooling"))
    ]
    notes = [n for n in npf.notes if n not in labelled]
    if notes or labelled:
        table.attrs["note"] = "; ".join(
            [*labelled, *(["no pooling: " + "; ".join(notes)] if notes else [])]
        )
    elif npf.unestimable_groups:
        table.attrs["note"] = f"no pooling cannot estimate {len(npf.unestimable_groups)} group(s)"
    return table, npf


class SamplerFailure(RuntimeError):
    """The run under test raised while sampling (its inputs had been checked before)."""


def _under_test(run: Callable[[], Any]) -> Any:
    """Run the sampler under test; an error while it samples is its failure, not a usage error.

    The data, model and scheme are validated before this is called, so a ValueError (or a
    floating-point or linear-algebra error) from inside the sampling loop says the sampler broke
    on this configuration: compare reports it as such (DISAGREE), with the message.
    """
    try:
        return run()
    except (ValueError, FloatingPointError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        raise SamplerFailure(f"the Gibbs run failed while sampling: {exc}") from exc


def run_compare(
    spec,
    *,
    dataset_label: str,
    scheme: str,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    reference: str,
    level: float,
    out_dir: str | None,
    quiet: bool = False,
    reference_options: dict | None = None,
    max_draws: int = 16000,
) -> tuple[Any, Path | None, Any]:
    """Run Gibbs and the twin, compare, print, and write the report.

    Returns (comparison, report page, the reference: NUTS draws, a golden or the exact
    posterior; reused by ``--mutants``). ``spec`` is a :class:`gibbs.spec.ModelSpec`.
    ``reference`` ``"auto"`` takes the exact posterior where the model has one (the Gaussian
    varying-intercept model: :func:`validation.verify.exact_for`, a few seconds of quadrature),
    else the stored golden built from the same data, model and priors when there is one
    (:func:`validation.verify.golden_for`), else fits the twin with nutpie; ``"exact"`` and
    ``"golden"`` insist on theirs; ``"pymc"`` / ``"nutpie"`` fit the twin
    (:func:`reference_models.reference.fit_spec`, with ``reference_options`` such as
    ``parameterization`` or ``low_rank`` for models whose NUTS run needs them); a fresh NUTS fit
    that fails its own R-hat or ESS rules without divergences is refitted once, up to 4 x
    ``draws`` per chain (:func:`validation.verify.fit_reference_lengthened`). The Gibbs run
    is lengthened (doubling, up to ``max_draws``) while its own MCSE of any compared statistic
    exceeds half the reference's or it fails its own diagnostics: it is cheap, and the verdict
    should be limited by the reference's error only.
    """
    import gibbs
    from reference_models.parameterization import choose_parameterization
    from reference_models.reference import REFERENCES, compared_vars
    from validation.capabilities import refusal
    from validation.identities import conditional_identities
    from validation.verify import compare_lengthened

    data, priors, family = spec.data, spec.priors, spec.family.name
    slopes, factors = spec.slopes, spec.factor_labels
    _say(
        f"dataset: {dataset_label}: {data.n} rows, {data.n_groups} {data.group_dim}, "
        f"X = [{', '.join(data.x_names)}], U = [{', '.join(data.u_names)}]",
        quiet,
    )
    for line in spec.describe():
        _say(line, quiet)
    _say(f"family: {family}; priors: {priors}", quiet)
    # The Bayesian pooling baselines (their PSIS-LOO, the shrinkage plot), where they exist.
    no_pooling_fits = refusal(spec.structure, family, "pooling-baselines")
    if scheme not in spec.schemes():
        raise ValueError(
            f"scheme {scheme!r} is not one of this model's: {', '.join(sorted(spec.schemes()))}"
        )

    def run_gibbs(n: int, **options):
        return _under_test(
            lambda: gibbs.sample(
                spec,
                scheme=scheme,
                draws=n,
                tune=tune,
                chains=chains,
                seed=seed,
                progressbar=not quiet,
                **options,
            )
        )

    start = time.perf_counter()
    g = run_gibbs(draws)
    gibbs_time = time.perf_counter() - start
    _say(f"Gibbs ({scheme}, {chains} chains x {draws} draws): {gibbs_time:.1f} s", quiet)
    convergence_line = _convergence_line(g)
    _say(f"Gibbs convergence: {convergence_line}", quiet)
    driver_line, driver_failed = _driver_conformance(spec, scheme)
    _say(f"driver conformance: {driver_line}", quiet)
    names = compared_vars(spec)
    found = exact = None
    if reference in ("auto", "exact"):
        from validation.verify import exact_for

        start = time.perf_counter()
        exact = exact_for(spec)
        if exact is None and reference == "exact":
            raise ValueError(
                "--reference exact: the exact posterior covers the Gaussian varying-intercept "
                "model with both scales identified; use --reference auto"
            )
    if exact is None and reference in ("auto", "golden"):
        from validation.verify import golden_for

        found = golden_for(spec)
        if found is None and reference == "golden":
            raise ValueError(
                "--reference golden: no stored golden was built from this data, model and "
                "priors (python -m validation.build_goldens --list); use --reference nutpie"
            )
    if exact is None:
        start = time.perf_counter()
    divergences = 0
    if exact is not None:
        r = exact
        names = [v for v in names if v in r.var_names]
        conv = r.provenance["convergence"]
        _say(
            f"reference: exact posterior by quadrature over (log sigma_y, log sigma_alpha) "
            f"({r.provenance['grid']['fine']} nodes per axis, largest change from the coarse "
            f"grid {conv['max_change_over_sd']:.1e} posterior sds): "
            f"{time.perf_counter() - start:.1f} s",
            quiet,
        )
        reference_label = "exact posterior (quadrature)"
    elif found is not None:
        golden_name, r = found
        names = [v for v in names if v in r.var_names]
        prov = r.provenance
        _say(
            f"reference: stored golden {golden_name} ({prov.get('tool', 'NUTS')}, "
            f"{prov.get('chains', '?')} chains x {prov.get('draws', '?')} draws, made "
            f"{str(prov.get('created', '?'))[:10]}; python -m validation.build_goldens)",
            quiet,
        )
        reference_label = f"golden {golden_name}"
    else:
        engine = "nutpie" if reference == "auto" else reference
        options = dict(reference_options or {})
        if "parameterization" not in options:
            options["parameterization"] = choose_parameterization(
                spec, REFERENCES[spec.implementation.name].parameterization
            )
        parameterization = options["parameterization"].replace("noncentered", "non-centered")
        from validation.verify import fresh_reference

        r, ref_draws = fresh_reference(
            spec,
            engine,
            names,
            draws=draws,
            seed=seed,
            progress=lambda msg: _say(f"{engine} NUTS {msg}", quiet),
            tune=tune,
            chains=chains,
            progressbar=not quiet,
            **options,
        )
        divergences = int(r.sample_stats["diverging"].sum())
        _say(
            f"{engine} NUTS ({parameterization} twin, {chains} chains x {ref_draws} draws): "
            f"{time.perf_counter() - start:.1f} s, {divergences} divergences",
            quiet,
        )
        reference_label = f"{engine} NUTS"
    ref_time = time.perf_counter() - start

    def longer(n: int):
        if n == draws:
            return g
        _say(
            f"Gibbs: lengthened to {chains} chains x {n} draws (its MCSE was above half the "
            "reference's)",
            quiet,
        )
        # compare applies its own R-hat/ESS rules
        return run_gibbs(n, log_likelihood=False, compute_convergence_checks=False)

    comparison, used = compare_lengthened(
        longer,
        r,
        names,
        draws=draws,
        max_draws=max(max_draws, draws),
        level=level,
        labels=("gibbs", "exact" if exact is not None else "golden" if found else "nuts"),
        # A tenth of the level: the two tests together keep the family-wise level at 1.1 x level.
        identities=lambda idata: conditional_identities(idata, spec, level=level / 10),
    )
    identities_line = comparison.settings.get("conditional_identities")
    if identities_line is not None:
        _say(f"conditional identities: {identities_line}", quiet)
    comparison.settings["gibbs_draws"] = used
    comparison.settings["gibbs_convergence"] = convergence_line
    comparison.settings["driver_conformance"] = driver_line
    if driver_failed:
        # The posterior may still match (a kept warm-up is diluted, shared streams only overstate
        # ESS): the run that produced it is wrong all the same.
        comparison.reasons.append(f"driver conformance failed: {', '.join(driver_failed)}")
        comparison.verdict = "disagree"
    comparison.settings["reference"] = reference_label
    if divergences:
        comparison.reasons.append(f"NUTS had {divergences} divergent transitions")
        if comparison.verdict == "agree":
            comparison.verdict = "inconclusive"
    # A golden or an exact posterior is a stored summary: no draws, no pointwise
    # log-likelihood to show beside Gibbs.
    stored = exact is not None or found is not None
    fits = {"gibbs": g} if stored else {"gibbs": g, "nuts": r}
    _say(f"pooling baselines: complete and no pooling ({spec.family.baseline})", quiet)
    start = time.perf_counter()
    baselines, npf = _baselines(data, g, spec.family)
    if time.perf_counter() - start > 1.0:  # the least-squares fits take milliseconds
        _say(f"pooling baselines: {time.perf_counter() - start:.1f} s", quiet)
    loo = _loo_table(fits)
    from validation.predictive import loo_table

    pooling_loo = None
    if no_pooling_fits is None:
        # Their posteriors are drawn exactly (gibbs.regression): NUTS would only add its
        # compilation time and its Monte Carlo error.
        pooling_engine = "gibbs"
        _say(
            f"PSIS-LOO of the Bayesian pooling baselines: fitting complete and no pooling "
            f"({pooling_engine})",
            quiet,
        )
        start = time.perf_counter()
        pooling_loo = loo_table(data, sampler=pooling_engine, seed=seed, multilevel=g)[
            ["rank", "elpd_loo", "p_loo", "elpd_diff", "dse", "pareto_k>0.7"]
        ]
        _say(f"PSIS-LOO of the pooling baselines: {time.perf_counter() - start:.1f} s", quiet)
    else:
        _say(f"(PSIS-LOO against the Bayesian pooling baselines: {no_pooling_fits})", quiet)
    if not quiet:
        print()
        print(comparison)
        with pd.option_context("display.width", 140, "display.max_columns", 20):
            print(comparison.summary_table(10).to_string(float_format=lambda v: f"{v:.3f}"))
            print(
                f"\npooling baselines ({spec.family.baseline}) and the multilevel posterior mean:"
            )
            print(baselines.to_string(float_format=lambda v: f"{v:.3f}"))
            if "note" in baselines.attrs:
                print(baselines.attrs["note"])
            print(
                "\nPSIS-LOO of the two fits of the same model (they should match):"
                if len(fits) > 1
                else "\nPSIS-LOO of the Gibbs fit (the reference is a stored summary):"
            )
            print(loo.to_string(float_format=lambda v: f"{v:.2f}"))
            if pooling_loo is not None:
                print("\nPSIS-LOO: multilevel (Gibbs) against the Bayesian pooling baselines:")
                print(pooling_loo.to_string(float_format=lambda v: f"{v:.2f}"))
    page = None
    if out_dir:
        from validation.plots import forest_plot, rank_plot, shrinkage_plot
        from validation.report import write_report

        scalars = [v for v in names if v != "alpha"]
        ranked = {"Gibbs": g, "NUTS": r} if len(fits) > 1 else {"Gibbs": g}
        if "effect" in g.posterior["sigma_alpha"].dims:  # the last varying coefficient's sd
            import arviz as az

            ranked = {
                k: az.convert_to_inference_data(
                    v.posterior["sigma_alpha"].isel(effect=-1, drop=True).to_dataset()
                )
                for k, v in ranked.items()
            }
        figures = [
            forest_plot(
                {k.capitalize() if k == "gibbs" else "NUTS": v for k, v in fits.items()}, scalars
            ),
            *(rank_plot(v, "sigma_alpha", k) for k, v in ranked.items()),
        ]
        if npf.group_intercepts is not None and no_pooling_fits is None:
            figures.append(shrinkage_plot(data, g, npf.group_intercepts))
        settings = {
            "dataset": dataset_label,
            "family": family,
            "slopes": list(slopes),
            "factors": list(factors),
            "priors": priors.describe(),
            "scheme": scheme,
            "draws": draws,
            "tune": tune,
            "chains": chains,
            "seed": seed,
            "reference": reference_label,
            "gibbs_draws_for_the_verdict": used,
            "level": level,
        }
        tables = {
            "Pooling baselines and the multilevel posterior mean": baselines,
            "PSIS-LOO of the fits of the same model": loo,
        }
        if pooling_loo is not None:
            tables["PSIS-LOO: multilevel against complete and no pooling"] = pooling_loo
        page = write_report(
            out_dir,
            title=f"gibbs-suite compare: {dataset_label}",
            settings=settings,
            comparison=comparison,
            idatas=fits,
            tables=tables,
            figures=figures,
            numbers={
                "timings_s": {"gibbs": gibbs_time, "nuts": ref_time},
                "divergences": divergences,
            },
        )
        _say(f"\nreport: {page}", quiet)
    return comparison, page, r


def _loo_table(idatas: dict[str, Any]) -> pd.DataFrame:
    import warnings

    import arviz as az

    rows = {}
    for label, idata in idatas.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loo = az.loo(idata, pointwise=True)
        rows[label] = {
            "elpd_loo": float(loo.elpd_loo),
            "se": float(loo.se),
            "p_loo": float(loo.p_loo),
            "pareto_k>0.7": int(np.sum(np.asarray(loo.pareto_k) > 0.7)),
        }
    return pd.DataFrame(rows).T


def run_mutants(
    spec,
    *,
    reference_idata,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    level: float,
) -> pd.DataFrame:
    """Run every mutant that applies to ``spec`` against a reference posterior; one row each.

    A mutant that is exactly the correct sampler on this data (:func:`validation.inertness.
    exact_here`: e.g. a group-size slip on balanced groups) is not sampled: its row says
    ``exact on this data``, ``inert`` True and ``caught`` False, and only the design library can
    expose it.
    """
    from gibbs.sampling import sample_spec
    from reference_models.reference import compared_vars
    from validation.inertness import exact_mutants
    from validation.mutant_catalogue import mutants_for

    catalogue = mutants_for(spec)
    inert = exact_mutants(spec, {name: sweep for name, (_, sweep) in catalogue.items()}, seed)

    runs = {
        name: (
            bug,
            lambda sweep=sweep, name=name: sample_spec(
                spec,
                sweep,
                f"mutant:{name}",
                draws=draws,
                tune=tune,
                chains=chains,
                seed=seed,
                progressbar=False,
                log_likelihood=False,
                compute_convergence_checks=False,
            ),
        )
        for name, (bug, sweep) in catalogue.items()
    }
    return _mutant_table(runs, reference_idata, compared_vars(spec), level, inert)


def _mutant_table(
    runs: dict, reference_idata, var_names: list[str], level: float, inert: set = frozenset()
) -> pd.DataFrame:
    """Sample every broken sampler and compare it with the reference; one row per mutant.

    ``runs`` maps a name to (description, a callable that samples). A mutant that fails outright
    (a covariance matrix that stops being positive definite) counts as caught, with verdict
    ``crashed``.
    """
    from validation.compare import compare_posteriors

    rows = []
    for name, (bug, run) in runs.items():
        row = {"mutant": name, "bug": bug, "inert": name in inert}
        if row["inert"]:
            exact = {"verdict": "exact on this data", "caught": False, "max_abs_z": np.nan}
            rows.append({**row, **exact})
            continue
        try:
            with np.errstate(all="ignore"):
                idata = run()
        except (np.linalg.LinAlgError, FloatingPointError) as exc:
            rows.append({**row, "verdict": f"crashed ({exc})", "caught": True, "max_abs_z": np.nan})
            continue
        c = compare_posteriors(
            idata, reference_idata, var_names=var_names, level=level, labels=("mutant", "reference")
        )
        rows.append(
            {
                **row,
                "verdict": c.verdict,
                "caught": c.verdict != "agree",
                "max_abs_z": c.max_abs_z() if len(c.table) else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("mutant")


def _driver_conformance(spec, scheme: str) -> tuple[str, list[str]]:
    """Run the exact checks of the sampling loop (:mod:`validation.conformance`) on ``spec``.

    What no posterior comparison can see (warm-up kept, thinning, shared or overlapping
    streams, chain k depending on the other chains, labels, initial values), checked bit for bit
    on short runs through the loop of :func:`gibbs.sample`: about a second on radon.
    Returns the line to print and the names of the failed checks.
    """
    from validation.conformance import conformance

    table = conformance(spec, scheme=scheme).table
    failed = [str(name) for name in table.index[~table["passed"]]]
    if not failed:
        return f"PASS ({len(table)} exact checks of the sampling loop)", []
    details = "; ".join(f"{name}: {table.loc[name, 'detail']}" for name in failed)
    return f"FAIL ({len(failed)} of {len(table)} checks): {details}", failed


def _convergence_line(idata) -> str:
    """One line of the run's stored convergence report (:mod:`gibbs.convergence`)."""
    from gibbs.convergence import stored

    r = stored(idata)
    if r is None or r.get("converged") is None:
        return "not assessed"
    stats = (
        f"max R-hat {r['max_rhat']:.3f}, min bulk ESS {r['min_ess_bulk']:.0f}, "
        f"min tail ESS {r['min_ess_tail']:.0f}"
        if r.get("max_rhat") is not None
        else f"min bulk ESS {r['min_ess_bulk']:.0f}"
    )
    return f"{stats}: " + ("converged" if r["converged"] else f"NOT converged: {r['message']}")
