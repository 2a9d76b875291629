"""Which battery catches which class of bug: every mutant of the catalogues through verify.

Usage: python benchmarks/battery_detection.py [--part K/N] [--out FILE.jsonl]

For every driver mutant (validation/driver_mutants.py) and every sweep mutant of the shipped
radon configurations (Gaussian M2, logistic and probit action level, M3), the batteries of
``gibbs-suite verify`` at their defaults (Geweke and SBC fail-fast), and, for comparison, the
batteries as they were: Geweke and SBC (200 replications) on the balanced 6 x 3 design without
stress settings. Rows are appended as JSON lines (an interrupted run resumes); ``--part K/N``
runs every N-th mutant from K, so that two processes share the list.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

CONFIGS = {
    "radon M2 gaussian": [],
    "radon logistic": ["--family", "logistic"],
    "radon probit": ["--family", "probit"],
    "radon M3": ["--model", "M3"],
}


# The class of every mutant: what kind of slip it is (docs/harness.md).
CLASSES = {
    "driver and output": [
        "warmup_kept",
        "thin_from_first",
        "thin_ignored",
        "chains_share_stream",
        "seed_plus_chain",
        "labels_reversed",
        "init_ignored",
    ],
    "design-dependent terms (group sizes, indexing)": [
        "alpha_mean_group_size",
        "sigma_alpha_over_n",
        "misindexed_groups",
        "logistic_row_count_weights",
        "sigma_without_groups",
    ],
    "scale, variance and prior confusions": [
        "beta_prior_sd_as_variance",
        "plugin_variance",
        "df_off_by_one",
        "log_uniform_df",
        "alpha_drops_prior_precision",
        "sigma_diagonal_scatter",
    ],
    "Monte Carlo corrections (i-SIR, Jacobians)": [
        "isir_unweighted",
        "marginal_without_log_det",
        "collapsed_without_jacobian",
        "probit_no_jacobian",
    ],
    "binomial latent variables and trials": [
        "pg_one_trial",
        "pg_double_shape",
        "pg_without_tilt",
        "pg_uncentred_response",
        "probit_flipped_truncation",
        "probit_untruncated",
    ],
    "wrong conditional structure": [
        "beta_without_alpha_offset",
        "gamma_from_group_means",
        "beta_without_noise",
        "alpha_covariance_not_inverted",
    ],
}


def table(path: Path) -> str:
    """The markdown table of the recorded rows, by class."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    klass = {m: c for c, ms in CLASSES.items() for m in ms}
    batteries = ["conformance", "compare", "geweke", "sbc"]
    out = [
        "| class | mutant | configuration | " + " | ".join(batteries) + " | caught |",
        "|---|---|---|" + "---|" * (len(batteries) + 1),
    ]
    order = {c: k for k, c in enumerate(CLASSES)}
    rows.sort(key=lambda r: (order.get(klass.get(r["mutant"]), 99), r["mutant"], r["config"]))
    for r in rows:
        cells = [("**caught**" if r.get(b) == "FAIL" else r.get(b, "-").lower()) for b in batteries]
        caught = any(r.get(b) == "FAIL" for b in batteries)
        out.append(
            f"| {klass.get(r['mutant'], '?')} | {r['mutant']} | {r['config']} | "
            + " | ".join(cells)
            + f" | {'yes' if caught else '**NO**'} |"
        )
    return "\n".join(out)


def jobs():
    from validation.cli import build_parser, load_spec
    from validation.driver_mutants import DRIVER_MUTANTS
    from validation.mutant_catalogue import mutants_for

    out = [("radon M2 gaussian", name, "driver") for name in DRIVER_MUTANTS]
    for config, argv in CONFIGS.items():
        spec = load_spec(build_parser().parse_args(["compare", *argv]))
        out += [(config, name, "sweep") for name in mutants_for(spec)]
    return out


def run_one(config, name, kind, balanced=True):
    from validation.batteries import geweke_designs, sbc_designs
    from validation.calibration import sweep_under_test
    from validation.cli import build_parser, load_spec
    from validation.driver_mutants import driver_mutant
    from validation.verify import verify

    argv = CONFIGS[config]
    with driver_mutant(name if kind == "driver" else None):
        spec = load_spec(build_parser().parse_args(["compare", *argv]))
        start = time.perf_counter()
        result = verify(spec, mutant=None if kind == "driver" else name, fail_fast=True)
        row = {
            "config": config,
            "mutant": name,
            "kind": kind,
            **{b: result.table.loc[b, "verdict"] for b in result.table.index},
            "details": {b: result.table.loc[b, "detail"] for b in result.table.index},
            "seconds": time.perf_counter() - start,
        }
        sweep = sweep_under_test(spec, None, None if kind == "driver" else name)
        if not balanced:
            return row
        with np.errstate(all="ignore"):
            try:
                old_g = geweke_designs(spec, sweep, designs=("balanced",), stress=False)
                row["geweke_balanced"] = "PASS" if old_g.passed else "FAIL"
            except (np.linalg.LinAlgError, FloatingPointError):
                row["geweke_balanced"] = "FAIL"
            try:
                old_s = sbc_designs(
                    spec, sweep, designs=("balanced",), stress=False, replications=200
                )
                row["sbc_balanced"] = "PASS" if old_s.passed else "FAIL"
            except (np.linalg.LinAlgError, FloatingPointError):
                row["sbc_balanced"] = "FAIL"
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="0/1")
    parser.add_argument("--out", default="benchmarks/results/detection.jsonl")
    parser.add_argument("--kind", choices=["driver", "sweep", "all"], default="all")
    parser.add_argument(
        "--no-balanced", action="store_true", help="skip the old balanced-design batteries"
    )
    parser.add_argument("--table", action="store_true", help="print the table of recorded rows")
    args = parser.parse_args()
    k, n = (int(v) for v in args.part.split("/"))
    out = Path(args.out)
    if args.table:
        print(table(out))
        return
    done = set()
    if out.exists():
        done = {(r["config"], r["mutant"]) for r in map(json.loads, out.read_text().splitlines())}
    for i, (config, name, kind) in enumerate(jobs()):
        if i % n != k or (config, name) in done or args.kind not in ("all", kind):
            continue
        row = run_one(config, name, kind, balanced=not args.no_balanced)
        with out.open("a") as f:
            f.write(json.dumps(row, default=str) + "\n")
        print(
            json.dumps({key: row[key] for key in row if key != "details"}, default=str), flush=True
        )


if __name__ == "__main__":
    main()
