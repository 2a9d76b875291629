"""Count families and exposure offsets: exact pieces against closed forms, negative controls.

The samplers' calibration is in tests/test_general_calibration.py (Geweke over the registry's
count and offset rows, and the count mutants); the twins' log densities in
tests/test_spec_twin.py.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import gibbs
from gibbs.data import HierarchicalData
from gibbs.families.count import (
    negative_binomial_loglik,
    poisson_lognormal_loglik,
    polya_gamma_any,
)
from gibbs.formula import parse_formula
from gibbs.priors import Priors
from tests.configurations import slopes_factors_spec

# A grid of real Polya-Gamma shapes (the negative binomial's y + phi) and tilts.
_SHAPES = (0.3, 0.9, 1.5, 2.5, 3.7, 12.25)
_TILTS = (0.0, 1.0, 4.0)
_DRAWS = 200_000


def _pg_moments(h, z):
    """Exact mean and variance of PG(h, z) (Polson, Scott & Windle 2013, section 3)."""
    if z == 0:
        return h / 4.0, h / 24.0
    mean = h / (2 * z) * np.tanh(z / 2)
    var = h / (4 * z**3) * (np.sinh(z) - z) / np.cosh(z / 2) ** 2
    return mean, var


@pytest.fixture(scope="module")
def pg_means():
    """Sample means of 200,000 draws of PG(h, z) over the grid, by (h, z)."""
    rng = np.random.default_rng(20)
    return {
        (h, z): polya_gamma_any(rng, np.full(_DRAWS, h), np.full(_DRAWS, z)).mean()
        for h in _SHAPES
        for z in _TILTS
    }


def _pg_chi2(means, shape_factor=1.0) -> float:
    """Sum over the grid of the squared z-scores of the sample means against the exact moments
    of PG(shape_factor h, z) (chi^2, 18 df if the draws are PG(shape_factor h, z))."""
    total = 0.0
    for (h, z), m in means.items():
        mean, var = _pg_moments(shape_factor * h, z)
        total += (m - mean) ** 2 / (var / _DRAWS)
    return total


# chi^2 with 18 degrees of freedom: P(> 42.3) = 0.001.
_CHI2_LIMIT = float(stats.chi2.ppf(0.999, len(_SHAPES) * len(_TILTS)))


def test_polya_gamma_draws_of_real_shapes_have_the_exact_means(pg_means):
    assert _pg_chi2(pg_means) < _CHI2_LIMIT


def test_polya_gamma_check_sees_a_shape_off_by_two_percent(pg_means):
    # Negative control on the same draws: against the moments of PG(h / 1.02, z) they are draws
    # 2% too large (a dispersion slip of that size).
    assert _pg_chi2(pg_means, 1 / 1.02) > _CHI2_LIMIT


# Far from the data too: a large count under a low eta (the tails a posterior's draws visit),
# zero under a high one.
@pytest.mark.parametrize(
    ("y", "eta", "sigma"),
    [
        (0, -1.0, 0.3),
        (3, 0.5, 1.2),
        (250, 5.0, 0.1),
        (1728, 2.0, 1.0),
        (1728, -3.0, 1.2),
        (40, -3.0, 2.0),
        (0, 6.0, 0.5),
    ],
)
def test_poisson_lognormal_marginal_equals_numerical_integration(y, eta, sigma):
    from scipy import optimize

    def log_f(e):
        return stats.poisson.logpmf(y, np.exp(eta + e)) + stats.norm.logpdf(e, 0.0, sigma)

    # Integrate around the integrand's mode, rescaled there (it underflows elsewhere).
    mode = optimize.brentq(lambda e: y - np.exp(eta + e) - e / sigma**2, -50.0, 50.0)
    width = 12.0 / np.sqrt(np.exp(eta + mode) + 1 / sigma**2)
    peak = log_f(mode)
    area = integrate.quad(
        lambda e: np.exp(log_f(e) - peak), mode - width, mode + width, points=[mode], limit=200
    )[0]
    exact = np.log(area) + peak
    ours = poisson_lognormal_loglik(np.array(eta), np.array(float(y)), np.array(sigma))
    np.testing.assert_allclose(ours, exact, rtol=1e-9)
    # Negative control: twice the overdispersion is another likelihood.
    other = poisson_lognormal_loglik(np.array(eta), np.array(float(y)), np.array(2 * sigma))
    assert abs(other - exact) > 1e-3


def test_negative_binomial_loglik_equals_scipy():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 40, 50).astype(float)
    eta = rng.normal(1.0, 1.0, 50)
    s = 0.7
    phi = 1 / s**2
    expected = stats.nbinom.logpmf(y, phi, phi / (phi + np.exp(eta)))
    np.testing.assert_allclose(negative_binomial_loglik(eta, y, s), expected, rtol=1e-10)
    assert np.max(np.abs(negative_binomial_loglik(eta, y, 0.5) - expected)) > 1e-2


def test_police_stops_loader_drops_the_zero_exposure_row_and_says_so(capsys):
    from gibbs.police_stops import load_police_stops

    stops = load_police_stops()
    message = capsys.readouterr().err
    assert "dropped 1 row" in message and "precinct 48" in message and "3 stops" in message
    assert stops.data.n == 899 and stops.data.n_groups == 75
    assert sorted(set(stops.factors["eth"])) == ["black", "hispanic", "white"]
    assert stops.dropped["stops"].tolist() == [3.0]
    assert np.all(np.isfinite(stops.data.offset))


def test_formula_offset_gives_the_loaders_data():
    from gibbs.police_stops import POLICE_STOPS_FORMULA, load_police_stops

    stops = load_police_stops(quiet=True)
    frame = stops.frame.copy()
    parsed = parse_formula(POLICE_STOPS_FORMULA, frame)
    # The same labels either way: a formula fit compares with the goldens, built from the data.
    assert parsed.data.group_names == stops.data.group_names
    np.testing.assert_array_equal(parsed.data.offset, stops.data.offset)
    np.testing.assert_array_equal(parsed.data.y, stops.data.y)
    assert parsed.data.p == 0 and set(parsed.factors) == {"eth"}
    # A transformation inside offset() is evaluated; two offsets add up.
    frame["arrests"] = np.exp(frame["log_arrests"])
    again = parse_formula("stops ~ offset(np.log(arrests)) + (1 | eth) + (1 | precinct)", frame)
    np.testing.assert_allclose(again.data.offset, stops.data.offset, rtol=1e-12)
    frame["one"] = 1.0
    two = parse_formula(
        "stops ~ offset(log_arrests) + offset(one) + (1 | eth) + (1 | precinct)", frame
    )
    np.testing.assert_allclose(two.data.offset, stops.data.offset + 1.0)


@pytest.mark.filterwarnings("ignore::gibbs.convergence.ConvergenceWarning")
def test_a_gaussian_offset_is_the_outcome_shifted():
    """y with offset o gives the draws of y - o without one (the general kernel serves both)."""
    spec = slopes_factors_spec("gaussian")
    o = np.random.default_rng(5).normal(0.0, 1.0, spec.data.n)
    with_offset = spec.replace(data=spec.data.replace(offset=o))
    shifted = spec.replace(data=spec.data.replace(y=spec.data.y - o))
    kw = {"draws": 50, "tune": 20, "chains": 2, "seed": 3, "progressbar": False}
    a = gibbs.sample(with_offset, **kw).posterior
    b = gibbs.sample(shifted, **kw).posterior
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values)
    # Negative control: the offset is not ignored.
    c = gibbs.sample(spec, **kw).posterior
    assert not np.allclose(a["alpha"].values, c["alpha"].values)


def test_an_offset_sends_varying_intercepts_to_the_general_kernel():
    data = gibbs.datasets.load_radon()
    spec = gibbs.specify(data.replace(offset=np.zeros(data.n)))
    assert spec.implementation.name == "general"
    assert gibbs.specify(data).implementation.name == "intercepts"


def test_zero_exposure_and_bad_counts_are_refused_before_sampling():
    groups = ["a", "a", "b", "b"]
    with pytest.raises(ValueError, match="offset is -inf in 1 row"):
        HierarchicalData.from_arrays([1.0, 2, 3, 4], groups=groups, offset=[0, 1, -np.inf, 3])
    data = HierarchicalData.from_arrays([1.0, 2.5, 3, 4], groups=groups)
    with pytest.raises(ValueError, match="a count"):
        gibbs.specify(data, family="poisson")
    counts = HierarchicalData.from_arrays([1.0, 2, 3, 4], groups=groups)
    with pytest.raises(ValueError, match="needs a Normal prior"):
        gibbs.specify(counts, family="negative-binomial", priors=Priors())
    df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": groups})
    with pytest.raises(ValueError, match="does not evaluate"):
        parse_formula("y ~ offset(np.log(missing)) + (1 | g)", df)


@pytest.mark.filterwarnings("ignore::gibbs.convergence.ConvergenceWarning")
def test_count_families_sample_police_stops_with_named_dispersions():
    from gibbs.police_stops import load_police_stops

    stops = load_police_stops(quiet=True)
    kw = {"draws": 30, "tune": 20, "chains": 2, "seed": 1, "progressbar": False}
    for family, name in (("poisson", "sigma_epsilon"), ("negative-binomial", "inv_sqrt_phi")):
        idata = gibbs.sample(stops.data, family=family, factors=stops.factors, **kw)
        assert name in idata.posterior and "eth_effect" in idata.posterior
        assert idata.log_likelihood["stops"].shape == (2, 30, 899)
        assert np.all(np.isfinite(idata.log_likelihood["stops"].values))
        np.testing.assert_array_equal(idata.constant_data["offset"].values, stops.data.offset)
