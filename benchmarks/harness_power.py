"""The harness's own error rates: false alarms of the correct sampler, and mutant detection.

Usage: python benchmarks/harness_power.py [--seeds 20] [--out benchmarks/results/harness_power.json]

False alarms: the correct Gibbs sampler against nutpie on radon M2 for --seeds independent pairs
of seeds; the overall verdict's family-wise level is 0.01, so at most about 1% should disagree.
Detection: every mutant of validation.mutants against nutpie on radon M2 and on a synthetic
dataset with 8 unbalanced groups (caught = verdict other than "agree").
"""

import argparse
import json
import warnings

import numpy as np

import gibbs
from gibbs.datasets import load_radon, simulate_hierarchical
from reference_models.fit import fit_reference
from reference_models.twins import model_var_names
from validation.compare import compare_posteriors
from validation.compare_job import run_mutants

warnings.filterwarnings("ignore")


def synthetic():
    sizes = np.array([3, 8, 1, 12, 5, 20, 2, 9])
    data, _ = simulate_hierarchical(
        8, sizes, beta=[0.8], gamma=[1.0, 0.5], sigma_y=0.5, sigma_alpha=0.7, seed=4
    )
    return data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--out", default="benchmarks/results/harness_power.json")
    args = parser.parse_args()
    data = load_radon()
    names = model_var_names(data)
    verdicts = []
    for seed in range(args.seeds):
        g = gibbs.sample(data, seed=1000 + seed, progressbar=False, log_likelihood=False)
        r = fit_reference(data, sampler="nutpie", seed=2000 + seed, log_likelihood=False)
        c = compare_posteriors(g, r, var_names=names, labels=("gibbs", "nuts"))
        verdicts.append({"seed": seed, "verdict": c.verdict, "max_abs_z": c.max_abs_z()})
        print(json.dumps(verdicts[-1]), flush=True)
    detection = {}
    for label, d in (("radon-M2", data), ("synthetic", synthetic())):
        ref = fit_reference(d, sampler="nutpie", seed=3, draws=2000, log_likelihood=False)
        table = run_mutants(
            d, reference_idata=ref, draws=2000, tune=500, chains=4, seed=1, level=0.01
        )
        detection[label] = table.reset_index().to_dict(orient="records")
        print(table[["verdict", "caught", "max_abs_z"]], flush=True)
    n_false = sum(v["verdict"] == "disagree" for v in verdicts)
    n_inconclusive = sum(v["verdict"] == "inconclusive" for v in verdicts)
    result = {
        "command": "python benchmarks/harness_power.py",
        "level": 0.01,
        "false_alarms": {
            "runs": len(verdicts),
            "disagree": n_false,
            "inconclusive": n_inconclusive,
            "runs_detail": verdicts,
        },
        "detection": detection,
    }
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=2, default=float)
    print(f"false alarms: {n_false}/{len(verdicts)} disagree, {n_inconclusive} inconclusive")


if __name__ == "__main__":
    main()
