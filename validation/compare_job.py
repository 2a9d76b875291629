"""The main job: the Gibbs posterior against its PyMC twin and the pooling baselines."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gibbs.data import HierarchicalData
from gibbs.priors import Priors

__all__ = ["run_compare", "run_mutants"]


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, flush=True)


def _baselines(
    data: HierarchicalData, gibbs_idata, family: str = "gaussian"
) -> tuple[pd.DataFrame, Any]:
    from reference_models.pooling import (
        complete_pooling,
        complete_pooling_glm,
        no_pooling,
        no_pooling_glm,
    )

    post = gibbs_idata.posterior
    if family != "gaussian":
        import warnings

        cp = complete_pooling_glm(data, family)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # reported in the table's note
            npf = no_pooling_glm(data, family)
        rows = [
            {
                "coefficient": name,
                "complete pooling": cp.coef.loc[name, "estimate"],
                "no pooling": npf.coef.loc[name, "estimate"],
                "multilevel (Gibbs)": float(post["beta"].sel(x_coef=name).mean()),
            }
            for name in data.x_names
        ]
        table = pd.DataFrame(
            rows, columns=["coefficient", "complete pooling", "no pooling", "multilevel (Gibbs)"]
        ).set_index("coefficient")
        if npf.notes:
            table.attrs["note"] = "no pooling: " + "; ".join(npf.notes)
        return table, npf
    cp, npf = complete_pooling(data), no_pooling(data)
    rows = []
    for name in data.x_names:
        rows.append(
            {
                "coefficient": name,
                "complete pooling": cp.coef.loc[name, "estimate"],
                "no pooling": npf.coef.loc[name, "estimate"],
                "multilevel (Gibbs)": float(post["beta"].sel(x_coef=name).mean()),
            }
        )
    rows.append(
        {
            "coefficient": "sigma_y",
            "complete pooling": cp.sigma,
            "no pooling": npf.sigma,
            "multilevel (Gibbs)": float(post["sigma_y"].mean()),
        }
    )
    table = pd.DataFrame(rows).set_index("coefficient")
    if npf.unestimable_groups:
        table.attrs["note"] = f"no pooling cannot estimate {len(npf.unestimable_groups)} group(s)"
    return table, npf


def run_compare(
    data: HierarchicalData,
    *,
    priors: Priors,
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
    family: str = "gaussian",
) -> tuple[Any, Path | None]:
    """Run Gibbs and the twin, compare, print, and write the report; returns (comparison, page)."""
    import gibbs
    from gibbs.families import normalize_family
    from reference_models.fit import fit_reference
    from reference_models.twins import model_var_names
    from validation.compare import compare_posteriors

    family = normalize_family(family)
    _say(
        f"dataset: {dataset_label}: {data.n} rows, {data.n_groups} {data.group_dim}, "
        f"X = [{', '.join(data.x_names)}], U = [{', '.join(data.u_names)}]",
        quiet,
    )
    _say(f"family: {family}; priors: {priors}", quiet)
    start = time.perf_counter()
    g = gibbs.sample(
        data,
        priors=priors,
        scheme=scheme,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        progressbar=not quiet,
        family=family,
    )
    gibbs_time = time.perf_counter() - start
    _say(f"Gibbs ({scheme}, {chains} chains x {draws} draws): {gibbs_time:.1f} s", quiet)
    start = time.perf_counter()
    r = fit_reference(
        data,
        priors,
        sampler=reference,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        progressbar=not quiet,
        family=family,
    )
    ref_time = time.perf_counter() - start
    divergences = int(r.sample_stats["diverging"].sum())
    _say(
        f"{reference} NUTS (non-centered twin, {chains} chains x {draws} draws): "
        f"{ref_time:.1f} s, {divergences} divergences",
        quiet,
    )
    names = model_var_names(data, family)
    comparison = compare_posteriors(g, r, var_names=names, level=level, labels=("gibbs", "nuts"))
    if divergences:
        comparison.reasons.append(f"NUTS had {divergences} divergent transitions")
        if comparison.verdict == "agree":
            comparison.verdict = "inconclusive"
    baselines, npf = _baselines(data, g, family)
    loo = _loo_table({"gibbs": g, "nuts": r})
    from validation.predictive import loo_table

    if family == "gaussian":
        pooling_loo = loo_table(data, sampler=reference, seed=seed, multilevel=g)[
            ["rank", "elpd_loo", "p_loo", "elpd_diff", "dse", "pareto_k>0.7"]
        ]
    else:
        # A Bayesian no-pooling fit of binomial data needs proper priors on every group
        # intercept (separated groups have none otherwise); the ML baselines above stand in.
        pooling_loo = None
    if not quiet:
        print()
        print(comparison)
        with pd.option_context("display.width", 140, "display.max_columns", 20):
            print(comparison.summary_table(10).to_string(float_format=lambda v: f"{v:.3f}"))
            kind = "least squares" if family == "gaussian" else "maximum likelihood"
            print(f"\npooling baselines ({kind}) and the multilevel posterior mean:")
            print(baselines.to_string(float_format=lambda v: f"{v:.3f}"))
            if "note" in baselines.attrs:
                print(baselines.attrs["note"])
            print("\nPSIS-LOO of the two fits of the same model (they should match):")
            print(loo.to_string(float_format=lambda v: f"{v:.2f}"))
            if pooling_loo is not None:
                print("\nPSIS-LOO: multilevel (Gibbs) against the Bayesian pooling baselines:")
                print(pooling_loo.to_string(float_format=lambda v: f"{v:.2f}"))
    page = None
    if out_dir:
        from validation.plots import forest_plot, rank_plot, shrinkage_plot
        from validation.report import write_report

        scalars = [v for v in names if v != "alpha"]
        figures = [
            forest_plot({"Gibbs": g, "NUTS": r}, scalars),
            rank_plot(g, "sigma_alpha", "Gibbs"),
            rank_plot(r, "sigma_alpha", "NUTS"),
        ]
        if npf.group_intercepts is not None:
            figures.append(shrinkage_plot(data, g, npf.group_intercepts))
        settings = {
            "dataset": dataset_label,
            "family": family,
            "priors": priors.describe(),
            "scheme": scheme,
            "draws": draws,
            "tune": tune,
            "chains": chains,
            "seed": seed,
            "reference": reference,
            "level": level,
        }
        tables = {
            "Pooling baselines and the multilevel posterior mean": baselines,
            "PSIS-LOO of the Gibbs and NUTS fits of the same model": loo,
        }
        if pooling_loo is not None:
            tables["PSIS-LOO: multilevel against complete and no pooling"] = pooling_loo
        page = write_report(
            out_dir,
            title=f"gibbs-suite compare: {dataset_label}",
            settings=settings,
            comparison=comparison,
            idatas={"gibbs": g, "nuts": r},
            tables=tables,
            figures=figures,
            numbers={
                "timings_s": {"gibbs": gibbs_time, "nuts": ref_time},
                "divergences": divergences,
            },
        )
        _say(f"\nreport: {page}", quiet)
    return comparison, page


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
    data: HierarchicalData,
    *,
    reference_idata,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    level: float,
    priors: Priors | None = None,
    family: str = "gaussian",
) -> pd.DataFrame:
    """Run every mutant of the family against a reference posterior; one row per mutant."""
    from reference_models.twins import model_var_names
    from validation.compare import compare_posteriors
    from validation.mutants import mutants_for

    rows = []
    for name, mutant in mutants_for(family).items():
        with np.errstate(all="ignore"):
            idata = mutant.sample(
                data,
                priors,
                draws=draws,
                tune=tune,
                chains=chains,
                seed=seed,
                log_likelihood=False,
            )
        c = compare_posteriors(
            idata,
            reference_idata,
            var_names=model_var_names(data, family),
            level=level,
            labels=("mutant", "reference"),
        )
        rows.append(
            {
                "mutant": name,
                "bug": mutant.bug,
                "verdict": c.verdict,
                "caught": c.verdict != "agree",
                "max_abs_z": c.max_abs_z() if len(c.table) else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("mutant")
