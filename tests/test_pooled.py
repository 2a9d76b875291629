"""Complete pooling from a formula: gibbs.sample of a formula without a group term."""

import arviz as az
import numpy as np
import pytest
from scipy import stats

import gibbs
from gibbs.datasets import load_radon_frame
from gibbs.formula import from_formula
from gibbs.pooled import pooled_design
from gibbs.priors import Normal, Priors
from gibbs.regression import flat_posterior_moments, sample_design


@pytest.fixture(scope="module")
def radon_df():
    houses, _ = load_radon_frame()
    return houses


def test_formula_without_groups_is_complete_pooling(radon_df):
    idata = gibbs.sample("log_radon ~ floor", data=radon_df, random_seed=2, progressbar=False)
    beta = idata.posterior["beta"]
    assert list(beta.coords["x_coef"].values) == ["Intercept", "floor"]
    assert "log_radon" in idata.log_likelihood and "log_radon" in idata.observed_data
    assert idata.posterior.attrs["formula"] == "log_radon ~ floor"
    # The same draws as the regression of the explicit design, seed for seed.
    design, _ = pooled_design("log_radon ~ floor", radon_df)
    again = sample_design(design, random_seed=2, tune=1000)
    assert np.array_equal(beta.values, again.posterior["beta"].values)
    # Flat priors: centred on least squares (Gelman & Hill's complete pooling, floor -0.61).
    exact = flat_posterior_moments(design.D, design.y)
    z = (beta.mean(("chain", "draw")).values - exact["theta_mean"]) / az.mcse(beta)["beta"].values
    assert np.all(np.abs(z) < stats.norm.isf(0.01 / 4))  # two means, family-wise 1%
    # Negative control: a tight prior moves the posterior, so the priors reach the sampler.
    tight = gibbs.sample(
        "log_radon ~ floor",
        data=radon_df,
        priors=Priors(beta=Normal(0.0, 0.01)),
        random_seed=2,
        progressbar=False,
    )
    assert np.all(np.abs(tight.posterior["beta"].mean(("chain", "draw")).values) < 0.1)


def test_an_offset_enters_complete_pooling(radon_df):
    df = radon_df.assign(shift=2.0)
    a = gibbs.sample("log_radon ~ floor", data=df, random_seed=1, draws=200, progressbar=False)
    b = gibbs.sample(
        "log_radon ~ floor + offset(shift)", data=df, random_seed=1, draws=200, progressbar=False
    )
    shift = (a.posterior["beta"] - b.posterior["beta"]).sel(x_coef="Intercept")
    assert np.allclose(shift.values, 2.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scheme": "marginal"}, "scheme cannot be given"),
        ({"slopes": ["floor"]}, "slopes cannot be given"),
        ({"family": "logistic"}, "family cannot be given"),
        ({"thin": 2}, "thin"),
        ({"priors": "binomial-default", "data": None}, "a formula needs data="),
    ],
)
def test_what_complete_pooling_cannot_use_is_refused(radon_df, kwargs, message):
    kwargs = {"data": radon_df, **kwargs}
    with pytest.raises(ValueError, match=message):
        gibbs.sample("log_radon ~ floor", progressbar=False, **kwargs)


def test_from_formula_still_needs_a_group_term(radon_df):
    with pytest.raises(ValueError, match="complete pooling"):
        from_formula("log_radon ~ floor", radon_df)
