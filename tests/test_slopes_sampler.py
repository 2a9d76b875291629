"""The varying-slopes driver: reproducibility, formulas, output layout, errors, and agreement
of the three schemes on synthetic data with known truth."""

import numpy as np
import pytest

import gibbs
from gibbs.covariance import HuangWand, InverseWishart
from gibbs.datasets import load_radon_frame, simulate_slopes
from gibbs.formula import from_formula, parse_formula
from gibbs.priors import Priors
from gibbs.slopes import SLOPES_SCHEMES, SlopesPriors
from validation.compare import compare_posteriors
from validation.slopes_mutants import SLOPES_MUTANTS

COMPARED = ["alpha", "beta", "gamma", "gamma_slope", "sigma_y", "sigma_alpha", "rho_alpha"]


@pytest.fixture(scope="module")
def synthetic():
    return simulate_slopes(
        25,
        np.arange(25) % 7 + 3,
        gamma=[1.0, 0.5],
        mean_slopes=[-0.6],
        Sigma=[[0.25, -0.06], [-0.06, 0.16]],
        beta=[0.4],
        seed=7,
    )


@pytest.fixture(scope="module")
def radon():
    return load_radon_frame()[0]


def _sample(data, slopes, **kw):
    kw = {"draws": 200, "tune": 100, "chains": 2, "progressbar": False, "seed": 5, **kw}
    return gibbs.sample(data, slopes=slopes, **kw)


def test_same_seed_gives_bit_identical_draws(synthetic):
    data, slopes, _ = synthetic
    a, b = _sample(data, slopes), _sample(data, slopes)
    for name in COMPARED:
        np.testing.assert_array_equal(a.posterior[name].values, b.posterior[name].values)
    c = _sample(data, slopes, seed=6)
    assert not np.array_equal(a.posterior["alpha"].values, c.posterior["alpha"].values)


def test_chain_draws_do_not_depend_on_the_number_of_chains(synthetic):
    data, slopes, _ = synthetic
    two, three = _sample(data, slopes, chains=2), _sample(data, slopes, chains=3)
    np.testing.assert_array_equal(
        two.posterior["sigma_alpha"].values, three.posterior["sigma_alpha"].values[:2]
    )


def test_formula_gives_bit_identical_draws_to_arrays(radon):
    formula = "log_radon ~ floor + (1 + floor | county)"
    data, slopes, factors = parse_formula(formula, radon)
    assert factors == {}
    assert slopes == ("floor",) and data.x_names == ("floor",)
    by_formula = gibbs.sample(
        formula, data=radon, draws=100, tune=50, chains=2, seed=3, progressbar=False
    )
    by_arrays = _sample(data, ["floor"], draws=100, tune=50, seed=3)
    for name in ["alpha", "gamma", "gamma_slope", "sigma_alpha", "rho_alpha"]:
        np.testing.assert_array_equal(
            by_formula.posterior[name].values, by_arrays.posterior[name].values
        )
    other = _sample(data, ["floor"], draws=100, tune=50, seed=4)
    assert not np.array_equal(other.posterior["alpha"].values, by_arrays.posterior["alpha"].values)


def test_output_names_dims_and_groups(synthetic):
    data, slopes, _ = synthetic
    idata = _sample(data, slopes, posterior_predictive=True)
    post = idata.posterior
    assert post["alpha"].dims == ("chain", "draw", "group", "effect")
    assert list(post["effect"].values) == ["Intercept", "z1"]
    assert list(post["effect_pair"].values) == ["Intercept:z1"]
    assert list(post["x_coef"].values) == ["x0"]  # the varying column is not in beta
    assert post["gamma_slope"].dims == ("chain", "draw", "slope")
    assert np.all((post["rho_alpha"] > -1) & (post["rho_alpha"] < 1))
    assert idata.log_likelihood["y"].shape == (2, 200, data.n)
    assert idata.posterior_predictive["y"].shape == (2, 200, data.n)
    assert post.attrs["slopes"] == ["z1"] and post.attrs["scheme"] == "collapsed"
    few = _sample(data, slopes, store_alpha=["g1", "g3"])
    assert few.posterior["alpha"].shape == (2, 200, 2, 2)
    # Every alpha_j is recorded for the log-likelihood; only the requested ones are kept.
    assert few.log_likelihood["y"].shape == (2, 200, data.n)
    np.testing.assert_array_equal(
        few.posterior["alpha"].values, idata.posterior["alpha"].sel(group=["g1", "g3"]).values
    )


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"slopes": ["nope"]}, "not columns of X"),
        ({"slopes": ["z1", "z1"]}, "repeat"),
        ({"slopes": ["z1"], "family": "logistic"}, "needs outcome"),
        ({"slopes": ["z1"], "priors": Priors()}, "need SlopesPriors"),
        ({"priors": SlopesPriors()}, "go with varying slopes"),
        ({"slopes": ["z1"], "scheme": "interweaving"}, "unknown scheme"),
        ({"slopes": ["z1"], "priors": SlopesPriors(Sigma=InverseWishart(0.5))}, "nu > K - 1"),
        ({"slopes": ["z1"], "priors": SlopesPriors(Sigma=HuangWand(2.0, -1.0))}, "HuangWand A"),
        ({"slopes": ["z1"], "init": {"Sigma": [[1.0, 2.0], [2.0, 1.0]]}}, "positive definite"),
    ],
)
def test_bad_input_is_refused_before_sampling(synthetic, kwargs, message):
    data = synthetic[0]
    with pytest.raises(ValueError, match=message):
        gibbs.sample(data, draws=10, tune=0, chains=1, progressbar=False, **kwargs)


@pytest.mark.parametrize(
    "formula,message",
    [
        ("log_radon ~ 1 + (1 + floor | county)", "among the common terms"),
        ("log_radon ~ floor + (0 + floor | county)", "no intercept"),
        ("log_radon ~ floor + u + (1 + u | county)", "constant within every group"),
        ("log_radon ~ floor + (1 | county) + (1 + floor | u)", "not by the finest grouping factor"),
    ],
)
def test_unsupported_slope_formulas_are_refused(radon, formula, message):
    df = radon.assign(u=radon["county"].cat.codes.astype(float))
    with pytest.raises(ValueError, match=message):
        parse_formula(formula, df)


def test_from_formula_refuses_to_drop_slopes(radon):
    with pytest.raises(ValueError, match="use parse_formula"):
        from_formula("log_radon ~ floor + (1 + floor | county)", radon)


def _fit(synthetic, sweep_or_scheme, seed):
    from gibbs.sampling import sample_sweep

    data, slopes, _ = synthetic
    priors = SlopesPriors(Sigma=InverseWishart(3.0, 0.1))
    sweep = SLOPES_SCHEMES.get(sweep_or_scheme, sweep_or_scheme)
    return sample_sweep(
        data,
        sweep,
        "test",
        priors,
        draws=3000,
        tune=500,
        chains=4,
        seed=seed,
        progressbar=False,
        slopes=slopes,
        log_likelihood=False,
    )


@pytest.fixture(scope="module")
def collapsed_fit(synthetic):
    return _fit(synthetic, "collapsed", 1)


# 80 s with the collapsed reference fit: make test-all (each scheme keeps a Geweke run and the
# collapsed default its NUTS comparison in the default tier).
@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["blocked", "componentwise"])
def test_schemes_agree_with_the_collapsed_default(synthetic, collapsed_fit, scheme):
    result = compare_posteriors(
        collapsed_fit, _fit(synthetic, scheme, 2), COMPARED, labels=("collapsed", scheme)
    )
    assert result.verdict == "agree", f"{result}\n{result.failing()}"


@pytest.mark.slow  # the negative control of the scheme comparison above, with its 35 s fixture
def test_scheme_comparison_catches_a_broken_sampler(synthetic, collapsed_fit):
    broken = _fit(synthetic, SLOPES_MUTANTS["sigma_diagonal_scatter"].sweep, 2)
    result = compare_posteriors(collapsed_fit, broken, COMPARED, labels=("collapsed", "broken"))
    assert result.verdict == "disagree", str(result)


def test_posterior_covers_the_known_truth(synthetic, collapsed_fit):
    """Central 99.9% intervals of the fixed parameters cover the simulated values."""
    truth = synthetic[2]
    post = collapsed_fit.posterior
    checks = {
        "gamma": truth["gamma"],
        "gamma_slope": truth["gamma_slope"],
        "beta": truth["beta"],
        "sigma_y": np.atleast_1d(truth["sigma_y"]),
        "sigma_alpha": np.sqrt(np.diag(truth["Sigma"])),
    }
    for name, value in checks.items():
        draws = post[name].values.reshape(-1, len(value))
        lo, hi = np.quantile(draws, [0.0005, 0.9995], axis=0)
        assert np.all((lo < value) & (value < hi)), (name, lo, hi, value)
