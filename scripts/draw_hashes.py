"""Hash the draws of a fixed list of configurations, to check bit-identity across commits.

A refactoring keeps the draws bit-identical when this prints the same on both commits (``diff``).

Usage: python scripts/draw_hashes.py [--draws 200]

Every family, structure and scheme that exists, on small data, from ``gibbs.sample``: a change
in any block, in the driver or in the streams changes a hash. Hashes are of the raw float bytes,
so they are for comparing commits on one machine (another CPU may differ in the last bit).
"""

from __future__ import annotations

import argparse
import hashlib
import warnings

import numpy as np


def _hash(idata) -> str:
    h = hashlib.sha256()
    for group in ("posterior", "sample_stats", "log_likelihood"):
        if group in idata.groups():
            ds = idata[group]
            for name in sorted(ds.data_vars):
                h.update(name.encode())
                h.update(np.ascontiguousarray(ds[name].values).tobytes())
    return h.hexdigest()[:16]


def configurations():
    """(label, data, keywords of gibbs.sample) for every configuration that exists."""
    from gibbs.datasets import (
        load_radon,
        load_radon_action_level,
        simulate_binomial,
        simulate_factors,
        simulate_slopes,
    )
    from gibbs.factors import FACTORS_SCHEMES
    from gibbs.kernels import FAMILY_SCHEMES
    from gibbs.priors import HalfNormal, Priors
    from gibbs.slopes import SLOPES_SCHEMES

    radon = load_radon()
    for family, schemes in FAMILY_SCHEMES.items():
        data = radon if family == "gaussian" else load_radon_action_level()
        for scheme in sorted(schemes):
            yield f"radon {family} {scheme}", data, {"family": family, "scheme": scheme}
    trials = simulate_binomial(12, 8, trials=3, seed=5)[0]
    for family in ("logistic", "probit"):
        yield f"trials {family}", trials, {"family": family}
    m3 = load_radon(uranium=False)
    for scheme in sorted(SLOPES_SCHEMES):
        yield f"radon M3 {scheme}", m3, {"slopes": ["floor"], "scheme": scheme}
    data, slopes, _ = simulate_slopes(
        8, 6, mean_slopes=(-0.5, 0.2), Sigma=np.diag([0.2, 0.1, 0.1]), seed=1
    )
    yield "two slopes", data, {"slopes": list(slopes)}
    for nested in (True, False):
        data, factors, _ = simulate_factors(12, 5, levels=4, nested=nested, seed=2)
        for scheme in sorted(FACTORS_SCHEMES):
            label = f"{'nested' if nested else 'crossed'} factors {scheme}"
            yield label, data, {"factors": factors, "scheme": scheme}
    # The general kernel's combinations (gibbs.structures.mixed).
    action_m1 = load_radon_action_level(uranium=False)
    for family in ("logistic", "probit"):
        for scheme in ("blocked", "collapsed"):
            kwargs = {"family": family, "slopes": ["floor"], "scheme": scheme}
            yield f"radon M3 {family} {scheme}", action_m1, kwargs
    data, factors, _ = simulate_factors(12, 5, levels=4, nested=True, seed=2)
    binary = data.replace(y=(data.y > np.median(data.y)).astype(float))
    yield "nested factors logistic", binary, {"factors": factors, "family": "logistic"}
    data, slopes, _ = simulate_slopes(8, 6, mean_slopes=(-0.5,), Sigma=np.diag([0.2, 0.1]), seed=1)
    crossed = {"h": np.random.default_rng(3).choice(["a", "b", "c"], data.n)}
    for scheme in ("blocked", "collapsed"):
        kwargs = {"slopes": list(slopes), "factors": crossed, "scheme": scheme}
        yield f"slopes and factors {scheme}", data, kwargs
    # Half-normal scales (GIG draws of the centered schemes) and the count families.
    half_normal = Priors(sigma_y=HalfNormal(1.0), sigma_alpha=HalfNormal(1.0))
    for scheme in ("blocked", "collapsed"):
        kwargs = {"scheme": scheme, "priors": half_normal}
        yield f"radon gaussian {scheme} half-normal", radon, kwargs
    counts = radon.replace(y=np.round(np.exp(radon.y)), offset=radon.X[:, 0] * 0.3)
    for family in ("poisson", "negative_binomial"):
        yield f"radon counts {family}", counts, {"family": family}


def main() -> None:
    """Print one hash per configuration."""
    import gibbs

    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=200)
    args = parser.parse_args()
    for label, data, kwargs in configurations():
        idata = gibbs.sample(
            data, draws=args.draws, tune=100, chains=3, seed=7, progressbar=False, **kwargs
        )
        print(f"{_hash(idata)}  {label}", flush=True)


if __name__ == "__main__":
    main()
