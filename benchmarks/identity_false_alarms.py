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
locations and inverse-gamma variances (``conjugate_inverse_gamma``); for the group level's
identities of the other families and the factors: radon's action level by logistic regression,
police stops by the overdispersed Poisson model (half-normal scales), and Gaussian designs with a
nested and with a crossed factor (``simulate_factors``). ``--schemes default`` runs each
design's default scheme. Seeds are 30,000 + k.
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
    """Name -> the keyword arguments of ``specify`` (built lazily: some read files)."""
    from gibbs.datasets import load_radon_action_level, simulate_factors
    from gibbs.police_stops import POLICE_STOPS_FORMULA, load_police_stops

    def unbalanced():
        sizes = np.tile([0, 1, 2, 5, 12], 6)
        data, _ = simulate_hierarchical(len(sizes), sizes, seed=4)
        return {"data_or_formula": data, "priors": conjugate_inverse_gamma()}

    def factors(nested):
        data, labels, _ = simulate_factors(nested=nested, seed=2)
        return {"data_or_formula": data, "factors": labels}

    return {
        "radon-M2": lambda: {"data_or_formula": load_radon()},
        "unbalanced-ig": unbalanced,
        "radon-logistic": lambda: {
            "data_or_formula": load_radon_action_level(),
            "family": "logistic",
        },
        "police-poisson": lambda: {
            "data_or_formula": POLICE_STOPS_FORMULA,
            "data": load_police_stops(quiet=True).frame,
            "family": "poisson",
        },
        "factors-nested": lambda: factors(True),
        "factors-crossed": lambda: factors(False),
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
        spec = specify(**designs[name]())
        for scheme in args.schemes.split(","):
            start, failed, zs = time.perf_counter(), 0, []
            for k in range(args.seeds):
                idata = gibbs.sample(
                    spec,
                    scheme=None if scheme == "default" else scheme,
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
