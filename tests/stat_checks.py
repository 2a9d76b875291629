"""Statistical checks shared by the tests, each with a stated level."""

import numpy as np
from scipy import stats


def gaussian_draws_match(draws, mean, cov, level=1e-3):
    """Whiten iid draws by the exact mean and covariance and test them against N(0, I).

    Tests: a KS test per whitened coordinate, and the chi-square total sum of squares
    (sum ||w||^2 ~ chi^2_{N d}); Bonferroni over the d + 1 tests at family-wise ``level``.
    Returns (passed, smallest p-value).
    """
    draws = np.atleast_2d(draws)
    N, d = draws.shape
    L = np.linalg.cholesky(cov)
    w = np.linalg.solve(L, (draws - mean).T).T
    p_values = [stats.kstest(w[:, k], "norm").pvalue for k in range(d)]
    total = float(np.sum(w * w))
    p_values.append(2 * min(stats.chi2.sf(total, N * d), stats.chi2.cdf(total, N * d)))
    p_min = min(p_values)
    return p_min > level / (d + 1), p_min


def numeric_cdf(logpdf, lo, hi, points=200_001):
    """CDF of an unnormalised density on (lo, hi) by trapezoid integration on a log grid."""
    x = np.geomspace(lo, hi, points)
    logf = logpdf(x)
    f = np.exp(logf - np.max(logf))
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(x))])
    cum /= cum[-1]
    return lambda v: np.interp(v, x, cum)


EXACT_STATS = ("mean", "sd", "q05", "q95")


def assert_same_quadrature(fresh, shipped) -> None:
    """A shipped exact reference is what the code computes now, and converged when it was made.

    The same deterministic quadrature: equal up to the floating-point path, far below the
    quadrature's own error (the stored "MCSE", the change between the grids). ``fresh`` is the
    recomputed summary (a DataFrame), ``shipped`` the loaded reference.
    """
    rows = shipped.summary.index
    for s in EXACT_STATS:
        diff = np.abs(fresh.loc[rows, s] - shipped.summary[s])
        assert (diff <= 1e-3 * shipped.summary[f"mcse_{s}"] + 1e-12).all(), s
    assert shipped.provenance["convergence"]["max_change_over_sd"] < 1e-3
    assert shipped.provenance["convergence"]["edge_mass"] < 1e-12
