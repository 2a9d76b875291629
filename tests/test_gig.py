"""The vectorised GIG sampler draws the exact distribution, chain by chain.

GIG(p, omega) (density proportional to x^(p-1) exp(-omega (x + 1/x) / 2)) has the moments
E[X^r] = K_{p+r}(omega) / K_p(omega). Each case draws 20,000 values (one per chain, one call)
and compares the sample moments r = -1, 1, 2 with the exact ones in Monte Carlo standard
errors (|z| <= 4.4: a Bonferroni level of 0.001 over the 42 comparisons), and the whole
distribution by a Kolmogorov-Smirnov test against the exact CDF (the density's integral on a
fine grid of log x, whose total is checked against the exact normaliser; level 0.001 over the
14 cases). The grid covers the three algorithms (ratio of uniforms with and without the mode
shift, the three-piece hat) and negative indices. The negative control skips the rejection
step (the first candidate is kept), the class of bug a correction step can have, and must fail
in every case.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from gibbs.kernels import gig

N = 20_000
Z_MAX = 4.4  # two-sided normal quantile at 0.001 / 42
KS_LEVEL = 0.001 / 14
CASES = [
    (-37.0, 3.0),  # a variance over 75 groups: ratio of uniforms with mode shift
    (-37.0, 300.0),
    (-12.0, 40.0),
    (2.5, 0.5),
    (-1.0, 0.2),
    (0.5, 0.6),  # ratio of uniforms without the shift
    (0.3, 0.45),
    (0.0, 0.3),
    (0.0, 0.05),  # the three-piece hat
    (0.3, 0.1),
    (-0.5, 0.01),
    (0.9, 0.02),
    (0.0, 2.0),  # omega > 1: shift again
    (0.0, 1.0),
]


def _method(p, omega):
    q = abs(p)
    if q >= 1 or omega > 1:
        return gig._SHIFT
    return gig._NOSHIFT if omega >= min(0.5, 2 * np.sqrt(1 - q) / 3) else gig._HAT


def test_the_grid_covers_every_algorithm():
    assert {_method(p, w) for p, w in CASES} == {gig._SHIFT, gig._NOSHIFT, gig._HAT}


@pytest.fixture(scope="module")
def generators():
    return [np.random.default_rng(s) for s in np.random.SeedSequence(20261203).spawn(N)]


def _exact_cdf(p: float, omega: float):
    """CDF of GIG(p, omega) by the trapezoid rule on 400,001 points of log x."""
    t = np.linspace(-40.0, 40.0, 400_001)
    log_norm = np.log(2.0) + np.log(special.kve(p, omega)) - omega  # log 2 K_p(omega)
    with np.errstate(over="ignore"):
        density = np.exp(p * t - omega * np.cosh(t) - log_norm)  # of log x: x f(x)
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(t))])
    assert abs(cdf[-1] - 1.0) < 1e-6  # the grid holds the whole distribution
    return lambda x: np.interp(np.log(x), t, cdf)


def _ks_pvalue(x: np.ndarray, p: float, omega: float) -> float:
    return stats.kstest(x, _exact_cdf(p, omega)).pvalue


def _max_z(x: np.ndarray, p: float, omega: float) -> float:
    z = []
    for r in (-1, 1, 2):
        exact = special.kve(p + r, omega) / special.kve(p, omega)
        xr = x**r
        z.append((xr.mean() - exact) / (xr.std(ddof=1) / np.sqrt(x.size)))
    return float(np.max(np.abs(z)))


@pytest.mark.parametrize(("p", "omega"), CASES)
def test_draws_have_the_exact_moments(generators, p, omega):
    x = gig.gig_standard(p, np.full(N, omega), generators)
    assert np.all(np.isfinite(x) & (x > 0))
    assert _max_z(x, p, omega) <= Z_MAX
    assert _ks_pvalue(x, p, omega) > KS_LEVEL


def _without_rejection(p: float, omega: np.ndarray, generators) -> np.ndarray:
    """The first candidate of every chain, accepted or not (a sampler with no rejection)."""
    q, kind = abs(p), _method(p, omega[0])
    candidates = gig._hat(q, omega) if kind == gig._HAT else gig._rou(q, omega, kind == gig._SHIFT)
    U = np.stack([g.random((gig.BATCH, 2)) for g in generators])
    with np.errstate(all="ignore"):
        x = candidates(U, np.arange(omega.size))[0][:, 0]
    return 1.0 / x if p < 0 else x


@pytest.mark.parametrize(("p", "omega"), CASES)
def test_skipping_the_rejection_step_is_caught(generators, p, omega):
    x = _without_rejection(p, np.full(N, omega), generators)
    x = x[np.isfinite(x) & (x > 0)]  # the bounding region's candidates outside the support
    assert _max_z(x, p, omega) > Z_MAX or _ks_pvalue(x, p, omega) < KS_LEVEL


def test_a_chain_does_not_depend_on_the_others():
    def gens(k):
        return [np.random.default_rng(s) for s in np.random.SeedSequence(5).spawn(k)]

    # Chain 0 alone, and beside chains that use the other two algorithms.
    for p, omega in [(-37.0, 3.0), (0.0, 0.05), (0.5, 0.6)]:
        alone = gig.gig_standard(p, np.array([omega]), gens(1))[0]
        beside = gig.gig_standard(p, np.array([omega, 0.05, 0.7]), gens(3))[0]
        assert alone == beside


def test_bad_concentration_is_refused():
    g = [np.random.default_rng(0)]
    for omega in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="omega"):
            gig.gig_standard(-2.0, np.array([omega]), g)
