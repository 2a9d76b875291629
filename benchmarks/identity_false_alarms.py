"""Calibration of the conditional identities for the correct sampler, over fresh seeds.

Usage: python benchmarks/identity_false_alarms.py [--seeds 300] [--draws 4000]
       [--schemes marginal,blocked] [--designs radon-M2,unbalanced-ig]
       [--out benchmarks/results/identity_false_alarms.json]

For every (design, scheme, seed) the correct Gibbs sampler runs 4 chains x ``--draws`` after
1000 warm-up and :func:`validation.identities.conditional_identities` tests its draws at the
level compare uses (0.001: a tenth of its default 0.01, Bonferroni over the statistics). The
identities need no reference, so every run is independent: the realised rate of failed runs
comes with its exact (Clopper-Pearson) 95% interval, and the z-scores of all runs are pooled
against the normal (sd, and |z| > 3 and > 3.5 counted against the normal's expectation), which
checks the Monte Carlo standard errors the test rests on. Designs: radon M2 under Gelman & Hill's
priors (flat locations, uniform scales), and 30 groups of 0, 1, 2, 5 and 12 rows under normal
locations and inverse-gamma variances (``conjugate_inverse_gamma``). Seeds are 30,000 + k.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

import gibbs
from gibbs.datasets import load_radon, simulate_hierarchical
from gibbs.priors import conjugate_inverse_gamma
from gibbs.spec import specify
from validation.identities import conditional_identities

warnings.filterwarnings("ignore")
LEVEL = 0.001


def _designs():
    sizes = np.tile([0, 1, 2, 5, 12], 6)
    unbalanced, _ = simulate_hierarchical(len(sizes), sizes, seed=4)
    return {
        "radon-M2": (load_radon(), None),
        "unbalanced-ig": (unbalanced, conjugate_inverse_gamma()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--draws", type=int, default=4000)
    parser.add_argument("--schemes", default="marginal,blocked")
    parser.add_argument("--designs", default="radon-M2,unbalanced-ig")
    parser.add_argument("--out", default="benchmarks/results/identity_false_alarms.json")
    args = parser.parse_args()
    designs = _designs()
    summary = []
    for name in args.designs.split(","):
        data, priors = designs[name]
        spec = specify(data, priors=priors)
        for scheme in args.schemes.split(","):
            start, failed, zs = time.perf_counter(), 0, []
            for k in range(args.seeds):
                idata = gibbs.sample(
                    data,
                    priors=priors,
                    scheme=scheme,
                    draws=args.draws,
                    tune=1000,
                    chains=4,
                    seed=30_000 + k,
                    progressbar=False,
                    log_likelihood=False,
                    compute_convergence_checks=False,
                )
                check = conditional_identities(idata, spec, LEVEL)
                failed += not check.passed
                zs.extend(check.rows["z"].tolist())
            z = np.asarray(zs)
            low, high = stats.binomtest(failed, args.seeds).proportion_ci(method="exact")
            row = {
                "design": name,
                "scheme": scheme,
                "runs": args.seeds,
                "draws": args.draws,
                "failed": failed,
                "rate": failed / args.seeds,
                "ci95": [low, high],
                "statistics": int(z.size),
                "z_sd": float(np.std(z)),
                "z_mean": float(np.mean(z)),
                "abs_z_gt_3": int(np.sum(np.abs(z) > 3)),
                "expected_gt_3": float(z.size * 2 * stats.norm.sf(3)),
                "abs_z_gt_3.5": int(np.sum(np.abs(z) > 3.5)),
                "expected_gt_3.5": float(z.size * 2 * stats.norm.sf(3.5)),
                "seconds": round(time.perf_counter() - start, 1),
            }
            summary.append(row)
            print(json.dumps(row), flush=True)
    Path(args.out).write_text(json.dumps(summary, indent=1) + "\n")
    print("| design | scheme | runs | failed at 0.001 | rate (95% CI) | z sd | |z|>3 (expected) |")
    print("|---|---|---|---|---|---|---|")
    for r in summary:
        print(
            f"| {r['design']} | {r['scheme']} | {r['runs']} | {r['failed']} | {r['rate']:.4f} "
            f"({r['ci95'][0]:.4f}-{r['ci95'][1]:.4f}) | {r['z_sd']:.3f} | "
            f"{r['abs_z_gt_3']} ({r['expected_gt_3']:.1f}) |"
        )


if __name__ == "__main__":
    main()
