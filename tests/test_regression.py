"""Bayesian regression without a group term (complete, no pooling) against its exact posterior."""

import arviz as az
import numpy as np
import pytest
from scipy import stats

from gibbs.datasets import load_radon
from gibbs.priors import Normal, UniformSigma
from gibbs.regression import (
    flat_posterior_moments,
    regression_model,
    sample_regression,
)
from reference_models.pooling import complete_pooling_posterior, no_pooling_posterior
from validation.compare import without_numba
from validation.regression_mutants import mutant_sweep

LEVEL = 0.01  # family-wise, Bonferroni over every compared quantity


def _designs():
    d = load_radon(uranium=False)
    observed = np.unique(d.group)
    complete = np.column_stack([d.U[d.group], d.X])
    none = np.column_stack([(d.group[:, None] == observed[None, :]).astype(float), d.X])
    return d, {"complete": complete, "no": none}


def _max_z(idata, exact) -> float:
    """Largest |z| of means and sds against the exact ones, in the run's own MCSEs."""
    post = idata.posterior
    mean, sd = post.mean(("chain", "draw")), post.std(("chain", "draw"), ddof=1)
    with without_numba():  # ArviZ 0.23's numba path of the sd's MCSE fails on arrays
        mcse_mean, mcse_sd = az.mcse(post, method="mean"), az.mcse(post, method="sd")
    z = [
        (mean["theta"].values - exact["theta_mean"]) / mcse_mean["theta"].values,
        (sd["theta"].values - exact["theta_sd"]) / mcse_sd["theta"].values,
        np.atleast_1d((mean["sigma_y"].values - exact["sigma_mean"]) / mcse_mean["sigma_y"].values),
        np.atleast_1d((sd["sigma_y"].values - exact["sigma_sd"]) / mcse_sd["sigma_y"].values),
    ]
    return float(np.max(np.abs(np.concatenate(z))))


def _threshold(n_quantities: int) -> float:
    return float(stats.norm.isf(LEVEL / (2 * n_quantities)))


# Each design with a realistic slip that the comparison must catch: on the two-column design a
# wrong theta noise, on the 86-column one sigma_y's degrees of freedom (visible only with many
# coefficients).
MUTANTS = {"complete": "theta_noise_without_sigma", "no": "sigma_dof_of_the_marginal"}


@pytest.mark.parametrize("design", ["complete", "no"])
def test_regression_matches_its_exact_posterior(design):
    d, designs = _designs()
    D = designs[design]
    names = [f"c{k}" for k in range(D.shape[1])]
    exact = flat_posterior_moments(D, d.y)
    limit = _threshold(2 * D.shape[1] + 2)
    idata = sample_regression(D, d.y, coef_names=names, random_seed=3, draws=1000)
    assert _max_z(idata, exact) < limit
    # Negative control: the same check rejects the design's mutant.
    wrong = sample_regression(
        D, d.y, coef_names=names, random_seed=3, draws=1000, sweep=mutant_sweep(MUTANTS[design])
    )
    assert _max_z(wrong, exact) > limit


def test_pooling_posteriors_carry_the_pymc_names_and_loo():
    d = load_radon()
    cp = complete_pooling_posterior(d, seed=1, draws=200)
    assert set(cp.posterior.data_vars) == {"gamma", "beta", "sigma_y"}
    assert list(cp.posterior["gamma"].coords["u_coef"].values) == list(d.u_names)
    npool = no_pooling_posterior(d, seed=1, draws=200)
    assert npool.posterior["alpha"].sizes["group"] == 85
    assert npool.log_likelihood["y"].shape == (4, 200, d.n)
    # Flat priors: the posterior mean of floor is the least-squares one (within 4 MCSEs).
    from reference_models.pooling import no_pooling

    beta = npool.posterior["beta"]
    ols = no_pooling(d).coef.loc["floor", "estimate"]
    assert abs(float(beta.mean()) - ols) < 4 * float(az.mcse(beta).to_array().max())


def test_same_seed_same_draws_and_seeds_differ():
    d, designs = _designs()
    D = designs["complete"]
    a = sample_regression(D, d.y, coef_names=["a", "b"], random_seed=5, draws=50)
    b = sample_regression(D, d.y, coef_names=["a", "b"], random_seed=5, draws=50)
    c = sample_regression(D, d.y, coef_names=["a", "b"], random_seed=6, draws=50)
    assert np.array_equal(a.posterior["theta"].values, b.posterior["theta"].values)
    assert not np.array_equal(a.posterior["theta"].values, c.posterior["theta"].values)


def test_normal_prior_shrinks_and_bad_input_is_named():
    d, designs = _designs()
    D = designs["complete"]
    tight = sample_regression(
        D, d.y, coef_names=["a", "b"], theta_prior=Normal(0.0, 0.01), random_seed=1, draws=200
    )
    flat = flat_posterior_moments(D, d.y)["theta_mean"]
    shrunk = tight.posterior["theta"].mean(("chain", "draw")).values
    # The prior's precision (10^4) is several times the data's: every mean moves most of the way
    # to 0.
    assert np.all(np.abs(shrunk) < 0.25 * np.abs(flat))
    with pytest.raises(ValueError, match="collinear"):
        regression_model(np.column_stack([D, D[:, :1]]), d.y)
    with pytest.raises(ValueError, match="improper"):
        regression_model(D[:3], d.y[:3], sigma_prior=UniformSigma())
    with pytest.raises(ValueError, match="finite"):
        regression_model(D, np.where(np.arange(d.n) == 0, np.nan, d.y))
    with pytest.raises(ValueError, match="coef_names"):
        sample_regression(D, d.y, coef_names=["a"])
