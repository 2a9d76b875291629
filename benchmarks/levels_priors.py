"""House < county < state on all-states radon: what the prior on the state-level scale does.

Usage: python benchmarks/levels_priors.py [--out benchmarks/results/levels_priors.json]

The survey covers 9 real states (8 survey states; R5 houses are in MN, WI and MI). With 9 state
effects the data say little about their standard deviation sigma_state, so its prior shows in the
posterior. For each prior: the posterior mean, median and central 95% interval of sigma_state,
of the largest and smallest state effects, and of the mean intercept gamma[intercept]
(collapsed Gibbs, 4 chains x 5000 draws, seed 1). Needs the survey files (GIBBS_SUITE_RADON_DIR).
"""

import argparse
import json
import os

import numpy as np

import gibbs
from gibbs.datasets import load_radon_all
from gibbs.priors import HalfCauchy, HalfNormal, InverseGamma, Priors, UniformSigma

PRIORS = {
    "uniform on sigma (default)": UniformSigma(),
    "half-Cauchy(0, 1)": HalfCauchy(1.0),
    "half-normal(0, 0.2)": HalfNormal(0.2),
    "inverse-gamma(0.001, 0.001) on sigma^2": InverseGamma(0.001, 0.001),
    "inverse-gamma(1, 1) on sigma^2": InverseGamma(1.0, 1.0),
}


def summarize(draws):
    draws = np.asarray(draws).ravel()
    return {
        "mean": float(draws.mean()),
        "median": float(np.median(draws)),
        "q2.5": float(np.quantile(draws, 0.025)),
        "q97.5": float(np.quantile(draws, 0.975)),
    }


def _survey_dir():
    """GIBBS_SUITE_RADON_DIR, else the shared data folder beside the clone (as CI places it)."""
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "radon"
    return os.environ.get("GIBBS_SUITE_RADON_DIR") or (shared if shared.is_dir() else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/levels_priors.json")
    args = parser.parse_args()
    data, factors = load_radon_all(_survey_dir()).to_levels()
    result = {
        "command": "python benchmarks/levels_priors.py",
        "rows": data.n,
        "counties": data.n_groups,
        "states": sorted(set(factors["state"])),
        "posterior": {},
    }
    for label, prior in PRIORS.items():
        idata = gibbs.sample(
            data,
            factors=factors,
            priors=Priors(factor_scales={"state": prior}),
            draws=5000,
            seed=1,
            progressbar=False,
            log_likelihood=False,
        )
        post = idata.posterior
        effects = post["state_effect"].mean(("chain", "draw"))
        hi, lo = str(effects.idxmax().values), str(effects.idxmin().values)
        row = {
            "sigma_state": summarize(post["sigma_state"]),
            f"state_effect[{hi}]": summarize(post["state_effect"].sel(state=hi)),
            f"state_effect[{lo}]": summarize(post["state_effect"].sel(state=lo)),
            "gamma[intercept]": summarize(post["gamma"].sel(u_coef="intercept")),
            "sigma_alpha": summarize(post["sigma_alpha"]),
        }
        result["posterior"][label] = row
        print(label, json.dumps(row), flush=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
