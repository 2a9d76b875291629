"""The ``gibbs-suite`` command line.

Exit codes: 0 success / agreement, 1 disagreement or failed check, 2 usage error or a feature that
is not built yet.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import time
import warnings
from collections.abc import Sequence

from gibbs.families import FAMILY
from validation.catalogue import load_dataset, load_model

__all__ = ["build_parser", "load_dataset", "main"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
# A resume folder whose files are corrupt or belong to another run: not a calibration verdict.
EXIT_BAD_RUN_FOLDER = 3
EXIT_INTERRUPTED = 130


def at_least(low: int):
    """Return an argparse type for integers >= ``low`` (argparse adds the option name)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def level(text: str) -> float:
    """Parse a family-wise error level, strictly between 0 and 1 (an argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {value}")
    return value


def writable_folder(path: str | None, option: str = "--out") -> None:
    """Create ``path`` and check that a file can be written there, before any work."""
    from pathlib import Path

    if not path:
        return
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{option} {path}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"{option} {path}: cannot write there ({exc.strerror or exc})") from None


# Datasets that are one model of the book rather than radon's M0-M3.
_BOOK_SECTIONS = {"election88": "section 14.1", "police-stops": "section 15.1"}


def _family_name(text: str) -> str:
    """``--family``: a family name or alias (negative-binomial, bernoulli, ...)."""
    from gibbs.families import normalize_family

    try:
        return normalize_family(text)
    except ValueError:
        return text  # argparse then lists the choices


def _add_dataset_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dataset")
    group.add_argument(
        "--dataset",
        choices=["radon", "radon-all", "synthetic", "separation", "election88", "police-stops"],
        default="radon",
        help="radon: Minnesota, ARM preparation, shipped with ArviZ (default); radon-all: all "
        "survey states (see --data-dir, --states); synthetic: simulated with known truth; "
        "separation (binomial families): small groups and a large sigma_alpha, so that many "
        "groups have all-0 or all-1 outcomes; election88 (binomial families): Gelman & Hill's "
        "1988 polls, support for Bush by sex and race, state within region, age, education "
        "(see --data-dir); police-stops (count families): Gelman & Hill's New York City "
        "police stops by ethnic group and precinct, with the previous year's arrests as "
        "exposure (see --data-dir)",
    )
    group.add_argument(
        "--family",
        choices=list(FAMILY),
        type=_family_name,
        default="gaussian",
        help="outcome model: gaussian (log radon; default), logistic / probit (radon: house "
        "above the EPA action level of 4 pCi/L; synthetic: simulated binary outcomes), or "
        "poisson (overdispersed) / negative-binomial (police-stops)",
    )
    group.add_argument(
        "--model",
        choices=["M0", "M1", "M2", "M3"],
        default="M2",
        help="radon model: M0 intercept only, M1 + floor, M2 + county log-uranium (default), M3 "
        "floor slope varying by county (Gelman & Hill's varying-slopes model; synthetic: one "
        "varying slope)",
    )
    group.add_argument(
        "--data-dir",
        help="folder with srrs2.dat and cty.dat (radon-all), election88_full.json (election88) "
        "or police_stops.json (police-stops)",
    )
    group.add_argument(
        "--states", nargs="+", metavar="ST", help="radon-all: real state codes, e.g. MN WI"
    )
    group.add_argument("--groups", type=at_least(2), default=30, help="synthetic: number of groups")
    group.add_argument(
        "--group-size", type=at_least(1), default=10, help="synthetic: rows per group"
    )
    group.add_argument(
        "--data-seed", type=at_least(0), default=0, help="synthetic: simulation seed"
    )
    group.add_argument(
        "--formula",
        help="model formula on the dataset's table, e.g. 'log_radon ~ floor + log_uranium + "
        "(1 | county)' or 'log_radon ~ floor + (1 + floor | county)' (radon columns: log_radon, "
        "above_action_level, floor, county, log_uranium; radon-all adds state and county_key "
        "(unique county ids; county names repeat and vary in spelling); synthetic: y, "
        "x0, u1, group); replaces --model",
    )
    group.add_argument(
        "--trials",
        type=at_least(1),
        default=None,
        help="synthetic binomial: trials per row (default 1)",
    )


def _add_sampling_options(parser: argparse.ArgumentParser) -> None:
    from gibbs.kernels import SCHEMES
    from gibbs.priors import PRESETS
    from gibbs.slopes import SLOPES_PRESETS

    group = parser.add_argument_group("sampling")
    group.add_argument(
        "--priors",
        choices=sorted(PRESETS) + sorted(SLOPES_PRESETS),
        default=None,
        help="gelman-hill: flat locations, uniform scales (Gaussian default); weakly-informative: "
        "N(0, 10^2) locations, half-t(3, 2.5) scales; binomial-default: N(0, 2.5^2) locations, "
        "uniform sigma_alpha (logistic/probit default); varying slopes: huang-wand (default: "
        "half-t(2, 1e5) standard deviations, uniform correlations) or inverse-wishart "
        "(IW(K + 1, I))",
    )
    group.add_argument(
        "--scheme",
        choices=sorted(set(SCHEMES) | {"collapsed", "blocked", "componentwise"}),
        default=None,
        help="update scheme (Gaussian varying intercepts: marginal (default), collapsed, "
        "interweaving, blocked, componentwise; binomial families and varying slopes: "
        "collapsed (default), blocked, componentwise; several factors: collapsed, blocked)",
    )
    group.add_argument(
        "--draws",
        type=at_least(1),
        default=None,
        help="draws per chain (default 1000; election88: 4000, see validation/catalogue.py)",
    )
    group.add_argument(
        "--tune", type=at_least(0), default=1000, help="warm-up iterations per chain"
    )
    group.add_argument("--chains", type=at_least(1), default=4)
    group.add_argument("--seed", type=at_least(0), default=1)


def _add_calibration_options(
    parser: argparse.ArgumentParser, *, chains: int, out: str, priors: str
) -> None:
    """Options shared by sbc and geweke: design, proper priors, sampler under test, level."""
    from gibbs.kernels import SCHEMES

    _add_dataset_options(parser)
    parser.set_defaults(dataset="synthetic", groups=6, group_size=3)
    parser.add_argument(
        "--priors",
        choices=[
            "inverse-gamma",
            "weakly-informative",
            "binomial-calibration",
            "slopes-calibration",
        ],
        default=None,
        help=f"proper priors: inverse-gamma (normal locations, IG(3, 2) variances; default "
        f"{priors}) or weakly-informative (half-t(3) scales: SBC only, Geweke needs finite "
        "fourth moments); binomial-calibration (N(0, 1) locations, IG(3, 2) sigma_alpha^2) is "
        "the default of the logistic and probit families; slopes-calibration (N(0, 1), "
        "IG(3, 2), IW(6, I)) that of varying slopes",
    )
    parser.set_defaults(default_priors=priors)
    parser.add_argument(
        "--scheme",
        choices=sorted(SCHEMES),
        default=None,
        help="scheme under test (default: the model's default scheme)",
    )
    parser.add_argument(
        "--mutant",
        help="test a broken sampler of validation.mutants (varying slopes: "
        "validation.slopes_mutants) instead",
    )
    parser.add_argument(
        "--chains", type=at_least(1), default=chains, help="chains (per fit for sbc)"
    )
    parser.add_argument("--seed", type=at_least(0), default=1)
    parser.add_argument("--level", type=level, default=0.01, help="family-wise error level")
    parser.add_argument("--out", default=out, help="output folder")
    _add_design_options(parser)


def _add_design_options(parser: argparse.ArgumentParser) -> None:
    from validation.designs import DESIGNS

    parser.add_argument(
        "--design",
        choices=sorted(DESIGNS),
        default=None,
        help="run on a calibration design of validation.designs (keeps the model's structure "
        "and family): " + "; ".join(f"{d.name}: {d.description}" for d in DESIGNS.values()),
    )
    parser.add_argument(
        "--group-sizes",
        default=None,
        metavar="N,N,...",
        help="run on a design with these rows per group, e.g. 1,2,5,20 (0: a group without rows)",
    )


def _designed(args: argparse.Namespace, spec):
    """``spec`` on ``--design`` or ``--group-sizes`` (validation.designs), else unchanged."""
    from validation.designs import DESIGNS, design_spec, sized_design

    if args.group_sizes:
        try:
            sizes = [int(v) for v in args.group_sizes.split(",")]
        except ValueError as exc:
            raise ValueError(f"--group-sizes takes integers like 1,2,5,20: {exc}") from exc
        return design_spec(spec, sized_design(sizes), seed=args.seed)
    if args.design:
        return design_spec(spec, DESIGNS[args.design], seed=args.seed)
    return spec


def _family(args: argparse.Namespace):
    """Return the family object of ``--family``."""
    from gibbs.families import get_family

    return get_family(getattr(args, "family", "gaussian"))


def resolve_priors(args: argparse.Namespace, slopes: Sequence[str] = ()):
    """Return the priors named by ``--priors``, else the model's default for the command."""
    from gibbs.families import get_family
    from gibbs.priors import PRESETS
    from gibbs.slopes import SLOPES_PRESETS

    name = getattr(args, "priors", None)
    calibration = getattr(args, "default_priors", None)
    if slopes:
        if name is None and calibration is None:
            return get_family(args.family).default_priors(len(slopes) + 1)
        name = name or "slopes-calibration"
        if name not in SLOPES_PRESETS:
            raise ValueError(
                f"--priors {name} is a varying-intercept preset; varying slopes take one of "
                f"{sorted(SLOPES_PRESETS)}"
            )
        return SLOPES_PRESETS[name]()
    if name in SLOPES_PRESETS:
        raise ValueError(f"--priors {name} is for varying slopes ('(1 + x | g)' or --model M3)")
    if name is not None:
        return PRESETS[name]()
    if calibration is not None:  # sbc / geweke need proper priors
        fam = get_family(args.family)
        return fam.calibration_priors(1) if fam.outcome == "binomial" else PRESETS[calibration]()
    if args.dataset == "election88" and not getattr(args, "formula", None):
        from gibbs.election88 import election88_priors

        return election88_priors()
    return get_family(args.family).default_priors(1)


def load_spec(args: argparse.Namespace):
    """Return the :class:`gibbs.spec.ModelSpec` of ``--dataset/--model/--formula/--family``."""
    import dataclasses

    from gibbs.priors import InverseGamma
    from gibbs.spec import specify

    data, slopes, factors = load_model(args)
    priors = resolve_priors(args, slopes)
    if factors and getattr(args, "default_priors", None) is not None and not priors.factor_scales:
        # Geweke and SBC need proper priors on every scale: the calibration presets' IG(3, 2).
        scales = {name: InverseGamma(3.0, 2.0) for name in factors}
        priors = dataclasses.replace(priors, factor_scales=scales)
    return specify(
        data, family=args.family, priors=priors, slopes=slopes or None, factors=factors or None
    )


def _cmd_data(args: argparse.Namespace) -> int:
    if args.capabilities:
        from validation.capabilities import describe

        print(describe())
        return EXIT_OK
    data, slopes, factors = load_model(args)
    summary = data.summary()
    if slopes:
        summary["varying_slopes"] = list(slopes)
    for name, labels in factors.items():
        summary[f"factor_{name}_levels"] = int(len(set(labels)))
    if args.json:
        print(json.dumps(summary, indent=2))
        return EXIT_OK
    q = summary["group_size_quantiles"]
    what = args.formula or _BOOK_SECTIONS.get(args.dataset, args.model)
    print(f"dataset        {args.dataset} ({what})")
    print(f"outcome        {summary['outcome']}")
    print(f"rows           {summary['rows']}")
    print(
        f"groups         {summary['groups']} {summary['group_dim']} "
        f"({summary['groups_with_data']} with data, {summary['empty_groups']} empty, "
        f"{summary['single_member_groups']} with a single row)"
    )
    print(
        f"group sizes    min {q['min']:g}, q25 {q['q25']:g}, median {q['median']:g}, "
        f"q75 {q['q75']:g}, max {q['max']:g}"
    )
    if _family(args).outcome == "binomial":
        import numpy as np

        trials = data.binomial_trials
        s = np.bincount(data.group, data.y, data.n_groups)
        m = np.bincount(data.group, trials, data.n_groups)
        observed = data.stats.n_j > 0
        print(
            f"successes      {data.y.sum():g} of {trials.sum():g} trials "
            f"({100 * data.y.sum() / trials.sum():.1f}%); "
            f"{int(np.sum(observed & (s == 0)))} groups with only failures, "
            f"{int(np.sum(observed & (s == m)))} with only successes"
        )
    print(f"X (individual) {', '.join(summary['individual_predictors']) or '(none)'}")
    print(f"U (group)      {', '.join(summary['group_predictors'])}")
    if slopes:
        print(f"varying slopes {', '.join(slopes)} (by {data.group_dim})")
    if factors:
        from gibbs.factors import make_factors

        for f in make_factors(data, factors):
            kind = (
                f"nested above {data.group_dim}" if f.nested else f"crossed with {data.group_dim}"
            )
            print(f"factor         {f.name}: {len(f.levels)} levels ({kind})")
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace) -> int:
    from validation.catalogue import sampling_defaults
    from validation.compare_job import SamplerFailure, run_compare, run_mutants

    for name, value in sampling_defaults(args).items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    if not args.no_report:
        writable_folder(args.out)
    spec = load_spec(args)
    scheme = args.scheme or spec.default_scheme
    label = f"{args.dataset} ({args.formula or args.model})" + (
        f" {' '.join(args.states)}" if args.states else ""
    )
    if args.dataset in _BOOK_SECTIONS and not args.formula:
        label = f"{args.dataset} (Gelman & Hill {_BOOK_SECTIONS[args.dataset]})"
    if spec.family.outcome == "binomial":
        label += f", {spec.data.y_name}"
    try:
        comparison, _, reference = run_compare(
            spec,
            dataset_label=label,
            scheme=scheme,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            seed=args.seed,
            reference=args.reference,
            level=args.level,
            out_dir=None if args.no_report else args.out,
            quiet=args.quiet,
            reference_options=_reference_options(args),
            max_draws=args.max_draws,
        )
    except SamplerFailure as exc:
        # What a user of compare needs: the verdict on the sampler, with the error.
        print(f"verdict: DISAGREE ({exc})")
        return EXIT_FAIL
    ok = comparison.verdict == "agree"
    if args.mutants:
        table = run_mutants(
            spec,
            reference_idata=reference,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            seed=args.seed,
            level=args.level,
        )
        print("\nmutant catalogue against the reference (caught = not 'agree'):")
        print(
            table[["verdict", "caught", "max_abs_z"]].to_string(float_format=lambda v: f"{v:.1f}")
        )
        inert = list(table.index[table["inert"]])
        if inert:
            print(
                f"exact on this data, so no comparison can flag them: {', '.join(inert)} "
                "(the design library exposes them: gibbs-suite verify)"
            )
        ok = ok and bool((table["caught"] | table["inert"]).all())
    return EXIT_OK if ok else EXIT_FAIL


def _reference_options(args: argparse.Namespace) -> dict:
    """NUTS settings a dataset's twin needs (the election88 twin: a low-rank mass matrix)."""
    if args.dataset == "election88" and not args.formula:
        from gibbs.election88 import REFERENCE_OPTIONS

        return dict(REFERENCE_OPTIONS)
    return {}


def _cmd_predictive(args: argparse.Namespace) -> int:
    from pathlib import Path

    from validation.predictive import heldout_table, loo_table

    writable_folder(args.out)
    data = load_dataset(args)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    start = time.perf_counter()
    say(f"PSIS-LOO: fitting multilevel, complete and no pooling ({args.reference})")
    loo = loo_table(data, sampler=args.reference, seed=args.seed)
    held = heldout_table(data, sampler=args.reference, seed=args.seed, progress=say)
    say(f"predictive: {time.perf_counter() - start:.0f} s")
    with pd_options():
        print("PSIS-LOO (arviz.compare; higher elpd_loo is better):")
        print(
            loo[["rank", "elpd_loo", "p_loo", "elpd_diff", "se", "dse", "pareto_k>0.7"]].to_string(
                float_format=lambda v: f"{v:.2f}"
            )
        )
        print("\nheld-out log predictive density per row and RMSE:")
        print(held.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        record = {
            "command": "gibbs-suite predictive " + " ".join(args.argv),
            "loo": loo.drop(columns=["weight"], errors="ignore")
            .reset_index(names="model")
            .to_dict(orient="records"),
            "heldout": held.reset_index().to_dict(orient="records"),
        }
        (out / "predictive.json").write_text(json.dumps(record, indent=2, default=str))
        print(f"\nwritten: {out / 'predictive.json'}")
    return EXIT_OK


def pd_options():
    """Wide pandas printing for the terminal tables."""
    import pandas as pd

    return pd.option_context("display.width", 140, "display.max_columns", 20)


def _cmd_geweke(args: argparse.Namespace) -> int:
    from pathlib import Path

    from validation.calibration import geweke, sweep_under_test
    from validation.geweke import progress_shown

    writable_folder(args.out)
    spec = _designed(args, load_spec(args))
    data, priors = spec.data, spec.priors
    args.scheme = args.scheme or spec.default_scheme
    sweep = sweep_under_test(spec, args.scheme, args.mutant)
    with progress_shown(not args.quiet):
        result = geweke(
            spec,
            sweep,
            level=args.level,
            chains=args.chains,
            iterations=args.iterations,
            seed=args.seed,
        )
    label = f"mutant {args.mutant}" if args.mutant else f"scheme {args.scheme}"
    print(
        f"{label}, family {args.family}, priors {priors}, design "
        f"{args.group_sizes or args.design or args.dataset} ({data.n} rows, {data.n_groups} groups)"
    )
    print(result)
    with pd_options():
        print(result.table.to_string(float_format=lambda v: f"{v:.4f}"))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        record = {
            "command": "gibbs-suite geweke " + " ".join(args.argv),
            "passed": result.passed,
            "level": result.level,
            "table": result.table.reset_index().to_dict(orient="records"),
        }
        (out / "geweke.json").write_text(json.dumps(record, indent=2, default=float))
    return EXIT_OK if result.passed else EXIT_FAIL


def _sbc_battery(args: argparse.Namespace, spec, sweep):
    """Run the resumable SBC: any engine, local or Dask (validation.calibration.resumable_sbc)."""
    from validation.calibration import resumable_sbc
    from validation.sbc import DaskExecutor, GibbsEngine, LocalExecutor, PyMCEngine

    common = {"chains": args.chains, "draws": args.draws, "tune": args.tune, "family": args.family}
    if args.engine == "gibbs":
        engine = GibbsEngine(sweep=tuple(sweep), **common)
    else:
        engine = PyMCEngine(sampler=args.engine, **common)
    if args.scheduler or args.dask:
        executor = DaskExecutor(args.scheduler, workers=args.workers)
    else:
        executor = LocalExecutor(args.workers)
    battery = resumable_sbc(
        spec,
        engine,
        replications=args.replications,
        seed=args.seed,
        n_ranks=args.n_ranks,
        out_dir=args.out,
        chunk=args.chunk,
        fingerprint={
            "scheme": args.scheme,
            "mutant": args.mutant or "",
            "dataset": args.dataset,
            "model": args.formula or args.model,
            "design": args.group_sizes or args.design or "",
        },
    )
    return battery.run(executor, resume=args.resume, progressbar=not args.quiet, level=args.level)


def _cmd_sbc(args: argparse.Namespace) -> int:
    from pathlib import Path

    from validation.calibration import sbc_batch, sweep_under_test
    from validation.capabilities import check, refusal

    if args.n_ranks > args.draws * args.chains:
        raise ValueError(
            f"--n-ranks {args.n_ranks} needs at least as many kept draws per fit; --draws "
            f"{args.draws} x --chains {args.chains} gives {args.draws * args.chains}"
        )
    if args.dask or args.scheduler:
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise ValueError(
                "--dask and --scheduler need dask.distributed: pip install 'gibbs-suite[dask]'"
            ) from None
    writable_folder(args.out)
    spec = _designed(args, load_spec(args))
    args.scheme = args.scheme or spec.default_scheme
    sweep = sweep_under_test(spec, args.scheme, args.mutant)
    if refusal(spec.structure, spec.family.name, "sbc-resumable") is None:
        result = _sbc_battery(args, spec, sweep)
    else:
        if args.engine != "gibbs" or args.resume or args.dask or args.scheduler:
            check(spec, "sbc-resumable")
        result = sbc_batch(
            spec,
            sweep,
            replications=args.replications,
            seed=args.seed,
            n_ranks=args.n_ranks,
            chains=args.chains,
            draws=args.draws,
            tune=args.tune,
            level=args.level,
        )
        Path(args.out).mkdir(parents=True, exist_ok=True)
    print(result)
    with pd_options():
        print(result.tests.sort_values("p_ecdf").to_string(float_format=lambda v: f"{v:.4g}"))
    out = Path(args.out)
    from validation.plots import sbc_plots

    for k, (fig, _caption) in enumerate(sbc_plots(result)):
        fig.savefig(out / f"sbc_{['ranks', 'ecdf'][k]}.png", dpi=90, bbox_inches="tight")
    (out / "summary.json").write_text(
        json.dumps(
            {
                "command": "gibbs-suite sbc " + " ".join(args.argv),
                "passed": result.passed,
                "level": result.level,
                "replications": len(result.ranks),
                "tests": result.tests.reset_index().to_dict(orient="records"),
            },
            indent=2,
            default=float,
        )
    )
    print(f"results: {out}")
    return EXIT_OK if result.passed else EXIT_FAIL


def _cmd_bench(args: argparse.Namespace) -> int:
    import time

    import arviz as az

    import gibbs
    from reference_models.reference import compared_vars

    spec = load_spec(args)
    names, family_schemes = compared_vars(spec), spec.schemes()
    scheme = args.scheme or spec.default_scheme
    schemes = sorted(family_schemes) if scheme == "all" else [scheme]
    rows = []
    for scheme in schemes:
        for r in range(args.repeats):
            start = time.perf_counter()
            idata = gibbs.sample(
                spec,
                scheme=scheme,
                draws=args.draws,
                tune=args.tune,
                chains=args.chains,
                seed=args.seed + r,
                progressbar=False,
                log_likelihood=False,
                compute_convergence_checks=False,  # timed: sampling only
            )
            total = time.perf_counter() - start
            ess = az.ess(idata, var_names=names, method="bulk")
            min_ess = float(min(ess[v].min() for v in ess.data_vars))
            rows.append(
                {
                    "sampler": f"gibbs:{scheme}",
                    "repeat": r,
                    "seconds": total,
                    "min_ess_bulk": min_ess,
                    "ess_per_s": min_ess / total,
                }
            )
    if args.reference:
        from reference_models.reference import fit_spec

        common = {
            "sampler": args.reference,
            "draws": args.draws,
            "tune": args.tune,
            "chains": args.chains,
            "seed": args.seed,
            "log_likelihood": False,
            "target_accept": 0.8,
        }
        start = time.perf_counter()
        ref = fit_spec(spec, **common)
        total = time.perf_counter() - start
        ess = az.ess(ref, var_names=names, method="bulk")
        min_ess = float(min(ess[v].min() for v in ess.data_vars))
        rows.append(
            {
                "sampler": args.reference,
                "repeat": 0,
                "seconds": total,
                "min_ess_bulk": min_ess,
                "ess_per_s": min_ess / total,
            }
        )
    import pandas as pd

    table = pd.DataFrame(rows).groupby("sampler")[["seconds", "min_ess_bulk", "ess_per_s"]].median()
    print(
        f"minimum bulk ESS per second, end to end (median of {args.repeats} runs for Gibbs; "
        f"{args.chains} chains x {args.draws} draws, {args.tune} warm-up):"
    )
    with pd_options():
        print(
            table.sort_values("ess_per_s", ascending=False).to_string(
                float_format=lambda v: f"{v:.2f}"
            )
        )
    print("the full benchmark with PyMC and nutpie side by side: make bench")
    return EXIT_OK


def _load_sampler(path: str):
    """Import ``module:function`` (a sampler ``(data, seed, draws, chains) -> InferenceData``)."""
    import importlib

    module, _, name = path.partition(":")
    if not module or not name:
        raise ValueError(f"--sampler takes module:function, got {path!r}")
    sys.path.insert(0, ".")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"--sampler {path}: {exc}") from exc
    if not callable(fn):
        raise ValueError(f"--sampler {path} is not callable")
    return fn


def _cmd_verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from validation.driver_mutants import DRIVER_MUTANTS, driver_mutant
    from validation.verify import verify

    driver = args.mutant if args.mutant in DRIVER_MUTANTS else None
    sweep_mutant = None if driver else args.mutant
    sampler = _load_sampler(args.sampler) if args.sampler else None
    writable_folder(args.out)  # a bad folder is found now, not after the batteries
    say = (
        (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    )
    with driver_mutant(driver):
        spec = load_spec(args)  # inside the context: a driver mutant reaches the spec's output
        result = verify(
            spec,
            scheme=args.scheme,
            mutant=sweep_mutant,
            sampler=sampler,
            batteries=args.batteries,
            seed=args.seed,
            level=args.level,
            reference=args.reference,
            replications=args.replications,
            progress=say,
            fail_fast=args.fail_fast,
        )
    under_test = args.sampler or f"mutant {args.mutant}" if args.mutant or args.sampler else None
    under_test = under_test or f"scheme {args.scheme or spec.default_scheme}"
    print(
        f"verify: {under_test}; {spec.structure} x {spec.family.name} on {args.dataset} "
        f"({spec.data.n} rows, {spec.data.n_groups} groups)"
    )
    table = result.table
    with pd_options():
        print(table[["verdict", "detail", "seconds"]].to_string())
        print()
        print(table[["sees", "cannot see"]].to_string())
    print(f"verdict: {'PASS' if result.passed else 'FAIL'}")
    if args.out:
        record = {
            "command": "gibbs-suite verify " + " ".join(args.argv),
            "passed": result.passed,
            "batteries": table.reset_index().to_dict(orient="records"),
        }
        (Path(args.out) / "verify.json").write_text(json.dumps(record, indent=2, default=str))
    return EXIT_OK if result.passed else EXIT_FAIL


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``gibbs-suite``."""
    parser = argparse.ArgumentParser(
        prog="gibbs-suite",
        description="Gibbs samplers for multilevel regression, checked against PyMC NUTS.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_data = sub.add_parser("data", help="summarise a dataset", description="Summarise a dataset.")
    _add_dataset_options(p_data)
    p_data.add_argument("--json", action="store_true", help="print the summary as JSON")
    p_data.add_argument(
        "--capabilities",
        action="store_true",
        help="print the capability table: which battery runs for which structure x family",
    )
    p_data.set_defaults(func=_cmd_data)

    p_cmp = sub.add_parser(
        "compare",
        help="compare the Gibbs posterior with its PyMC twin and the pooling baselines",
        description="Sample the model by Gibbs and by NUTS on its PyMC twin, compare the "
        "posteriors parameter by parameter (z-scores in Monte Carlo standard errors, Holm "
        "over all quantities), print the table and write a report. Exit 0 when they agree, 1 "
        "when they do not (or the comparison is inconclusive), 2 for usage errors.",
    )
    _add_dataset_options(p_cmp)
    _add_sampling_options(p_cmp)
    p_cmp.add_argument(
        "--reference",
        choices=["auto", "exact", "golden", "pymc", "nutpie"],
        default=None,
        help="auto (default): the exact posterior by quadrature where the model has one (the "
        "Gaussian varying-intercept model), else the stored golden built from the same data, "
        "model and priors when there is one, else a fresh nutpie fit of the twin; exact or "
        "golden: insist on it; pymc or nutpie: a fresh NUTS fit",
    )
    p_cmp.add_argument(
        "--max-draws",
        type=at_least(1),
        default=None,
        help="longest Gibbs run per chain when its own error is lengthened away (default 16000; "
        "election88: 4000)",
    )
    p_cmp.add_argument(
        "--level", type=level, default=0.01, help="family-wise error level (default 0.01)"
    )
    p_cmp.add_argument("--out", default="reports/compare", help="report folder")
    p_cmp.add_argument("--no-report", action="store_true", help="print only, write no files")
    p_cmp.add_argument(
        "--mutants",
        action="store_true",
        help="also run the catalogue of deliberately broken samplers and report which are caught",
    )
    p_cmp.add_argument("--quiet", action="store_true", help="no progress or tables")
    p_cmp.set_defaults(func=_cmd_compare)

    p_pred = sub.add_parser(
        "predictive",
        help="complete pooling vs no pooling vs multilevel: PSIS-LOO and held-out checks",
        description="Fit complete pooling and no pooling (flat priors) and the multilevel model "
        "(Gibbs), then compare them by PSIS-LOO and by held-out log predictive density and "
        "RMSE (one house per small county held out; whole counties held out).",
    )
    _add_dataset_options(p_pred)
    p_pred.add_argument(
        "--reference",
        choices=["gibbs", "pymc", "nutpie"],
        default="gibbs",
        help="how the pooling baselines are sampled: gibbs (default: exact two-block Gibbs of "
        "the same models) or the PyMC models by pymc or nutpie NUTS",
    )
    p_pred.add_argument("--seed", type=at_least(0), default=1)
    p_pred.add_argument("--out", default="reports/predictive", help="folder for the JSON")
    p_pred.set_defaults(func=_cmd_predictive)

    p_gw = sub.add_parser(
        "geweke",
        help="Geweke joint-distribution test of a Gibbs scheme (or of a mutant)",
        description="Compare the marginal-conditional and successive-conditional simulators "
        "of p(theta, y) on the design (X, groups, U) of a dataset with proper priors; exit 0 "
        "when no test function differs at the family-wise level, 1 otherwise.",
    )
    _add_calibration_options(p_gw, chains=200, out="reports/geweke", priors="inverse-gamma")
    p_gw.add_argument("--iterations", type=at_least(10), default=500)
    p_gw.add_argument("--quiet", action="store_true", help="no progress line")
    p_gw.set_defaults(func=_cmd_geweke)

    p_sbc = sub.add_parser(
        "sbc",
        help="simulation-based calibration of a Gibbs scheme, a mutant, or NUTS on the twin",
        description="Draw parameters from the (proper) priors, simulate data on the design of "
        "a dataset, fit, and test that the ranks of the truth are uniform (chi-square and ECDF "
        "with simultaneous bands, Holm at --level). Every finished replication is written to "
        "--out at once; --resume continues an interrupted run. Exit 0 pass, 1 fail.",
    )
    _add_calibration_options(p_sbc, chains=2, out="reports/sbc", priors="weakly-informative")
    p_sbc.add_argument("--engine", choices=["gibbs", "nutpie", "pymc"], default="gibbs")
    p_sbc.add_argument("--replications", type=at_least(1), default=200)
    p_sbc.add_argument("--draws", type=at_least(1), default=500, help="draws per chain per fit")
    p_sbc.add_argument("--tune", type=at_least(0), default=200)
    p_sbc.add_argument(
        "--n-ranks", type=at_least(1), default=99, help="draws kept per fit after thinning"
    )
    p_sbc.add_argument("--chunk", type=at_least(1), default=25, help="replications per task")
    p_sbc.add_argument(
        "--workers", type=at_least(1), default=1, help="local processes or Dask workers"
    )
    p_sbc.add_argument("--dask", action="store_true", help="run on a Dask LocalCluster")
    p_sbc.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://host:8786")
    p_sbc.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p_sbc.add_argument("--quiet", action="store_true")
    p_sbc.set_defaults(func=_cmd_sbc)

    p_ver = sub.add_parser(
        "verify",
        help="run conformance, compare, Geweke and SBC on a configuration: one table of verdicts",
        description="Verify a sampler of one configuration with every battery: the driver "
        "conformance suite, compare against the stored golden (else a fresh NUTS fit) with the "
        "run lengthened until its own error is small, and Geweke and SBC over the calibration "
        "designs and stress settings. --mutant takes any mutant of the catalogue (also the "
        "driver mutants of validation/driver_mutants.py); --sampler module:function verifies "
        "any sampler (data, seed, draws, chains) -> InferenceData. Exit 0 when no battery "
        "fails, 1 otherwise.",
    )
    _add_dataset_options(p_ver)
    p_ver.add_argument("--scheme", default=None, help="scheme under test (default: the model's)")
    p_ver.add_argument("--mutant", help="a mutant of the catalogue or a driver mutant")
    p_ver.add_argument("--sampler", help="module:function of your own sampler")
    p_ver.add_argument(
        "--batteries",
        nargs="+",
        choices=["conformance", "compare", "geweke", "sbc"],
        default=["conformance", "compare", "geweke", "sbc"],
    )
    p_ver.add_argument(
        "--reference",
        choices=["auto", "exact", "golden", "nutpie", "pymc"],
        default="auto",
        help="compare's reference: auto (the exact posterior where the model has one, else "
        "the golden when one matches, else nutpie)",
    )
    p_ver.add_argument(
        "--replications", type=at_least(1), default=1000, help="SBC replications per run"
    )
    p_ver.add_argument("--seed", type=at_least(0), default=1)
    p_ver.add_argument("--level", type=level, default=0.01, help="family-wise level per battery")
    p_ver.add_argument("--out", default="reports/verify", help="folder for verify.json")
    p_ver.add_argument("--quiet", action="store_true", help="no progress lines")
    p_ver.add_argument(
        "--fail-fast", action="store_true", help="stop Geweke and SBC at their first failed run"
    )
    p_ver.set_defaults(func=_cmd_verify)

    p_bench = sub.add_parser(
        "bench",
        help="measure effective samples per second of the Gibbs schemes (and optionally NUTS)",
        description="Minimum bulk ESS per second over every scalar parameter, end to end. The "
        "full benchmark (PyMC and nutpie, scaling in n and J) is make bench.",
    )
    _add_dataset_options(p_bench)
    from gibbs.kernels import SCHEMES as _SCHEMES

    p_bench.add_argument(
        "--scheme", choices=[*sorted(set(_SCHEMES) | {"componentwise"}), "all"], default="all"
    )
    p_bench.add_argument(
        "--priors",
        choices=["gelman-hill", "weakly-informative", "binomial-default"],
        default=None,
        help="default: the family's (gelman-hill, or binomial-default for logistic/probit)",
    )
    p_bench.add_argument("--draws", type=at_least(1), default=1000)
    p_bench.add_argument("--tune", type=at_least(0), default=1000)
    p_bench.add_argument("--chains", type=at_least(1), default=4)
    p_bench.add_argument("--seed", type=at_least(0), default=1)
    p_bench.add_argument("--repeats", type=at_least(1), default=3)
    p_bench.add_argument(
        "--reference", choices=["pymc", "nutpie"], help="also time NUTS on the PyMC twin"
    )
    p_bench.set_defaults(func=_cmd_bench)
    return parser


_NOISY_MODULES = r"(pymc|pytensor|arviz|nutpie|xarray|numpy|scipy|pandas|matplotlib)(\.|$)"


@contextlib.contextmanager
def _quiet(on: bool):
    """With ``--quiet``: no log lines or warnings from PyMC, PyTensor, nutpie or ArviZ.

    Only the verdict line and errors remain; the loggers' levels are restored afterwards.
    """
    if not on:
        yield
        return
    loggers = [logging.getLogger(n) for n in ("pymc", "pytensor", "nutpie", "arviz")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    from gibbs.convergence import ConvergenceWarning

    try:
        with warnings.catch_warnings():
            # Library noise and the convergence warning go; the suite's own notices of repaired
            # run folders stay (nothing finished is lost, and the user is told so).
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            warnings.filterwarnings("ignore", module=_NOISY_MODULES)
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    # PyTensor warns on every compile that pip's numpy BLAS is not linked: noise for our users.
    warnings.filterwarnings("ignore", message=".*PyTensor could not link to a BLAS.*")
    warnings.filterwarnings("ignore", message=".*ArviZ is undergoing a major refactor.*")
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    from validation.run_folder import RunMismatch

    try:
        with _quiet(getattr(args, "quiet", False)):
            return args.func(args)
    except RunMismatch as exc:
        print(f"gibbs-suite {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_RUN_FOLDER
    except (ValueError, FileNotFoundError, MemoryError) as exc:
        print(f"gibbs-suite {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        out = getattr(args, "out", None)
        kept = f"; finished work is kept in {out}" if out and args.command == "sbc" else ""
        print(f"\ngibbs-suite {args.command}: interrupted{kept}", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
