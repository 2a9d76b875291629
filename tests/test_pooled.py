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


def test_complete_pooling_predicts_the_exact_posterior_predictive(radon_df):
    """Under flat priors y_new | y has mean x'theta_hat and variance E[sigma^2] (1 + x'Vx).

    Means and variances of the predicted draws for a basement and a first-floor house, in
    Monte Carlo standard errors (ESS-based, ArviZ), family-wise 1% over the four; the negative
    control is the linear predictor alone (no residual noise), whose variance must fail.
    """
    idata = gibbs.sample("log_radon ~ floor", data=radon_df, random_seed=3, progressbar=False)
    new = radon_df.iloc[:0].reindex(range(2)).assign(floor=[0.0, 1.0])
    pred = gibbs.predict(idata, new, random_seed=4)
    y, eta = pred.predictions["log_radon"].values, pred.predictions["eta"].values
    design, _ = pooled_design("log_radon ~ floor", radon_df)
    D, obs = design.D, design.y
    n, k = D.shape
    theta_hat = np.linalg.lstsq(D, obs, rcond=None)[0]
    e_sigma2 = np.sum((obs - D @ theta_hat) ** 2) / (n - k - 1 - 2)
    x = np.array([[1.0, 0.0], [1.0, 1.0]])
    mean = x @ theta_hat
    var = e_sigma2 * (1.0 + np.einsum("ik,kl,il->i", x, np.linalg.inv(D.T @ D), x))
    limit = stats.norm.isf(0.01 / 8)

    def max_z(draws):
        z = []
        for i in range(2):
            d = draws[..., i]
            dev2 = (d - mean[i]) ** 2
            z.append((d.mean() - mean[i]) / az.mcse(d).item())
            z.append((dev2.mean() - var[i]) / az.mcse(dev2).item())
        return np.max(np.abs(z))

    assert max_z(y) < limit
    assert max_z(eta) > limit  # no residual noise: the variance is far too small
    # Seeded: the same draws again; other seed, other draws.
    again = gibbs.predict(idata, new, random_seed=4).predictions["log_radon"].values
    assert np.array_equal(y, again)
    with pytest.raises(ValueError, match="DataFrame"):
        gibbs.predict(idata, np.zeros((2, 1)))
    with pytest.raises(ValueError, match="floor"):
        gibbs.predict(idata, new.drop(columns="floor"))
