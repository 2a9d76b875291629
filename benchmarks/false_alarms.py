"""The realised false-alarm rate of ``compare`` for the correct sampler, over fresh seed pairs.

Usage: python benchmarks/false_alarms.py [--pairs 100] [--first-pair 0]
       [--pipeline raw|compare|exact]
       [--designs radon-M2,synthetic,synthetic-default] [--out benchmarks/results/false_alarms.json]

For each of ``--pairs`` independent (Gibbs seed, NUTS seed) pairs, the correct Gibbs sampler
(default scheme, 4 x 1000 after 1000 warm-up) and a fresh nutpie fit of the PyMC twin (4 x 1000,
in the parameterization compare chooses for the data) are compared at the stated family-wise
level 0.01 on radon M2 and on a synthetic design (8 unbalanced groups of 1 to 20 rows);
``gibbs-suite compare`` also calls a reference with divergent transitions inconclusive, and that
rule's count is reported beside. No reference
is reused: every pair measures the harness, not one reference. The rate of "disagree" comes with
its exact (Clopper-Pearson) 95% interval; the z-scores of all pairs are pooled to show the
tails (|z| > 3 counts against the normal's expectation). Results are appended as JSON lines,
so an interrupted run resumes. ``--first-pair`` starts at another pair index (its seeds are
10,000 + pair and 20,000 + pair): a measurement after a change of the decision rule uses pairs
that the change was not looked at on.

``--pipeline compare`` decides each pair as ``gibbs-suite compare --reference nutpie`` does:
the Gibbs run is lengthened (doubling up to 16,000 draws) while its own MCSE exceeds half the
reference's (``validation.verify.compare_lengthened``), and a reference with divergent
transitions is inconclusive. ``raw`` compares the 4 x 1000 runs as they are. ``exact`` decides
as ``gibbs-suite compare`` does by default on these models: against the exact posterior
(quadrature, :func:`validation.verify.exact_for`; computed once per design: it has no Monte Carlo
error, so reusing it makes no pairs dependent), with the Gibbs run lengthened to 16,000 draws and
the conditional identities tested at a tenth of the level; only the Gibbs seed varies.
"""

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
from harness_power import synthetic  # the same 8-group design (this folder is on sys.path)
from scipy import stats

import gibbs
from gibbs.datasets import load_radon, simulate_hierarchical
from reference_models.parameterization import choose_parameterization
from reference_models.reference import compared_vars, fit_spec
from validation.compare import compare_posteriors
from validation.identities import conditional_identities
from validation.verify import compare_lengthened, exact_for

warnings.filterwarnings("ignore")
STATS = ("mean", "sd", "q05", "q95")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--first-pair", type=int, default=0)
    parser.add_argument("--pipeline", choices=("raw", "compare", "exact"), default="raw")
    parser.add_argument("--designs", default="radon-M2,synthetic")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    default = {"raw": "false_alarms", "compare": "false_alarms_compare"}.get(
        args.pipeline, f"false_alarms_{args.pipeline}"
    )
    out = Path(args.out or f"benchmarks/results/{default}.json")
    chosen = args.designs.split(",")
    lines = out.with_suffix(".jsonl")
    done = [json.loads(s) for s in lines.read_text().splitlines()] if lines.exists() else []
    seen = {(d["design"], d["pair"]) for d in done}
    designs = (
        ("radon-M2", load_radon),
        ("synthetic", synthetic),
        # What `gibbs-suite compare --dataset synthetic` runs at its defaults: 30 groups of 10.
        ("synthetic-default", lambda: simulate_hierarchical(30, 10, seed=0)[0]),
    )
    for label, make in designs:
        if label not in chosen:
            continue
        data = make()
        spec = gibbs.specify(data)
        names = compared_vars(spec)
        exact = exact_for(spec) if args.pipeline == "exact" else None
        for pair in range(args.first_pair, args.first_pair + args.pairs):
            if (label, pair) in seen:
                continue

            def run(draws, pair=pair, spec=spec):
                return gibbs.sample(
                    spec, draws=draws, seed=10_000 + pair, progressbar=False, log_likelihood=False
                )

            used = 1000
            if args.pipeline == "exact":
                r, parameterization = exact, "exact"
            else:
                # The twin's parameterization is chosen from the data, as compare and verify do.
                parameterization = choose_parameterization(spec, "noncentered")
                r = fit_spec(
                    spec,
                    sampler="nutpie",
                    parameterization=parameterization,
                    seed=20_000 + pair,
                    progressbar=False,
                    log_likelihood=False,
                )
            if args.pipeline == "exact":
                c, used = compare_lengthened(
                    run,
                    r,
                    names,
                    labels=("gibbs", "exact"),
                    identities=lambda idata, spec=spec: conditional_identities(idata, spec, 0.001),
                )
            elif args.pipeline == "raw":
                c = compare_posteriors(run(1000), r, var_names=names, labels=("gibbs", "nuts"))
            else:
                c, used = compare_lengthened(run, r, names, labels=("gibbs", "nuts"))
            divergences = 0 if exact is not None else int(r.sample_stats["diverging"].sum())
            z = c.table[[f"z_{s}" for s in ("mean", "sd", "q05", "q95")]].to_numpy()
            row = {
                "design": label,
                "pair": pair,
                "verdict": c.verdict,
                # gibbs-suite compare reports a reference with divergences as inconclusive
                "compare_job_verdict": "inconclusive" if divergences else c.verdict,
                "divergences": divergences,
                "parameterization": parameterization,
                "gibbs_draws": used,
                "max_abs_z": c.max_abs_z(),
                "min_p": float(np.nanmin(c.table[[f"p_{s}" for s in STATS]].to_numpy())),
                "median_nu": {s: float(c.table[f"nu_{s}"].median()) for s in STATS},
                "reasons": c.reasons,
                "z_over_3": {
                    s: int(np.sum(np.abs(z[:, k]) > 3))
                    for k, s in enumerate(("mean", "sd", "q05", "q95"))
                },
                "n_z": int(z.shape[0]),
            }
            done.append(row)
            with lines.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(
                json.dumps({k: row[k] for k in ("design", "pair", "verdict", "max_abs_z")}),
                flush=True,
            )
    command = (
        f"python benchmarks/false_alarms.py --pairs {args.pairs} --first-pair {args.first_pair} "
        f"--pipeline {args.pipeline}"
    )
    summary = {"command": command, "level": 0.01}
    # Every design with results in the lines file, so that runs of one design at a time add up.
    for label in dict.fromkeys(d["design"] for d in done):
        rows = [
            d
            for d in done
            if d["design"] == label and args.first_pair <= d["pair"] < args.first_pair + args.pairs
        ]
        n = len(rows)
        k = sum(d["verdict"] == "disagree" for d in rows)
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact") if n else None
        n_z = sum(d["n_z"] for d in rows)
        expected = 2 * stats.norm.sf(3) * n_z
        summary[label] = {
            "pairs": n,
            "disagree": k,
            "inconclusive": sum(d["verdict"] == "inconclusive" for d in rows),
            "disagree_with_compare_job_rule": sum(
                d.get("compare_job_verdict") == "disagree" for d in rows
            ),
            "rate": k / n if n else None,
            "ci95": [ci.low, ci.high] if ci else None,
            "z_over_3": {
                s: sum(d["z_over_3"][s] for d in rows) for s in ("mean", "sd", "q05", "q95")
            },
            "z_over_3_expected_each": expected,
        }
    out.write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
