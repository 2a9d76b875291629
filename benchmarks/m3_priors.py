"""Gelman & Hill's M3 on radon: what the prior on Sigma does to the group-level scales.

Usage: python benchmarks/m3_priors.py [--out benchmarks/results/m3_priors.json]

For each prior on Sigma (the default Huang-Wand half-t(2, 1e5), a weakly informative
Huang-Wand half-t(2, 1), and the conjugate inverse-Wishart IW(3, I)) the posterior mean, median
and central 95% interval of both standard deviations and the correlation (collapsed Gibbs,
4 chains x 5000 draws); and the maximum-likelihood estimates of the same model (what
``lmer(REML = FALSE)`` computes), by maximizing the marginal likelihood with every alpha_j
integrated out. Gelman & Hill report lmer's REML estimates: 0.35, 0.34 and -0.34.
"""

import argparse
import json

import numpy as np
from scipy import optimize

import gibbs
from gibbs.covariance import HuangWand
from gibbs.datasets import load_radon
from gibbs.slopes import SlopesPriors, slopes_inverse_wishart

PRIORS = {
    "huang-wand (default): half-t(2, 1e5) sds, uniform correlation": SlopesPriors(),
    "huang-wand: half-t(2, 1) sds, uniform correlation": SlopesPriors(Sigma=HuangWand(2.0, 1.0)),
    "inverse-wishart IW(3, I)": slopes_inverse_wishart(),
}


def marginal_loglik(params, y, Z, group, J):
    """log p(y | mu, Sigma, sigma_y) with alpha_j ~ N(mu, Sigma) integrated out, group by group."""
    mu = params[:2]
    s_y, s1, s2 = np.exp(params[2:5])
    rho = np.tanh(params[5])
    Sigma = np.array([[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]])
    total = 0.0
    for j in range(J):
        rows = group == j
        Zj = Z[rows]
        V = s_y**2 * np.eye(rows.sum()) + Zj @ Sigma @ Zj.T
        r = y[rows] - Zj @ mu
        sign, logdet = np.linalg.slogdet(V)
        total += -0.5 * (logdet + r @ np.linalg.solve(V, r) + rows.sum() * np.log(2 * np.pi))
    return total


def maximum_likelihood(data):
    Z = np.column_stack([np.ones(data.n), data.X[:, 0]])
    start = np.array([1.4, -0.7, np.log(0.75), np.log(0.3), np.log(0.3), 0.0])
    res = optimize.minimize(
        lambda p: -marginal_loglik(p, data.y, Z, data.group, data.n_groups),
        start,
        method="Nelder-Mead",
        options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-8},
    )
    s_y, s1, s2 = np.exp(res.x[2:5])
    return {
        "mean_intercept": res.x[0],
        "mean_slope": res.x[1],
        "sigma_y": s_y,
        "sd_intercept": s1,
        "sd_slope": s2,
        "correlation": float(np.tanh(res.x[5])),
        "converged": bool(res.success),
    }


def summarize(draws):
    return {
        "mean": float(np.mean(draws)),
        "median": float(np.median(draws)),
        "q2.5": float(np.quantile(draws, 0.025)),
        "q97.5": float(np.quantile(draws, 0.975)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/m3_priors.json")
    args = parser.parse_args()
    data = load_radon(uranium=False, floor=True)
    result = {
        "command": "python benchmarks/m3_priors.py",
        "lmer_reml_gelman_hill": {"sd_intercept": 0.35, "sd_slope": 0.34, "correlation": -0.34},
    }
    result["maximum_likelihood"] = maximum_likelihood(data)
    print(json.dumps(result["maximum_likelihood"]), flush=True)
    result["posterior"] = {}
    for label, priors in PRIORS.items():
        idata = gibbs.sample(
            data,
            slopes=["floor"],
            priors=priors,
            draws=5000,
            seed=1,
            progressbar=False,
            log_likelihood=False,
        )
        post = idata.posterior
        row = {
            "sd_intercept": summarize(post["sigma_alpha"].sel(effect="Intercept").values),
            "sd_slope": summarize(post["sigma_alpha"].sel(effect="floor").values),
            "correlation": summarize(post["rho_alpha"].values),
        }
        result["posterior"][label] = row
        print(label, json.dumps(row), flush=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
