"""posteriordb's radon regressions with one scale (radon_pooled, radon_county_intercept): the
shipped exact references are what the code computes, and the Gibbs regression agrees with them
(a broken one does not)."""

import numpy as np
import pytest

from gibbs.posteriordb import regression_design, regression_priors
from gibbs.regression import flat_posterior_moments, sample_design
from reference_models.exact import exact_regression
from tests.stat_checks import assert_same_quadrature
from tests.tiers import tiered
from validation.build_exact import EXACT_REGRESSIONS, load_exact
from validation.compare import compare_posteriors
from validation.golden import check_data
from validation.regression_mutants import mutant_sweep

NAMES = sorted(EXACT_REGRESSIONS)


def _design(name, radon_dir):
    rows, model, _, _ = EXACT_REGRESSIONS[name]
    data = rows(radon_dir)
    check_data(load_exact(name), data, name=name)
    return regression_design(model, data)


@pytest.mark.parametrize("name", tiered(NAMES, {"radon_mn-radon_pooled"}))
def test_shipped_regression_reference_is_what_the_code_computes(name, radon_dir):
    shipped = load_exact(name)
    fresh = exact_regression(_design(name, radon_dir), *regression_priors()).summary
    assert_same_quadrature(fresh, shipped)


def test_one_scale_quadrature_is_the_closed_form_under_flat_priors(radon_dir):
    """Flat coefficients and a uniform sigma_y: the Student-t moments, to quadrature error."""
    design = _design("radon_mn-radon_pooled", radon_dir)
    exact = exact_regression(design).summary
    closed = flat_posterior_moments(design.D, design.y)
    assert np.allclose(exact.loc[["alpha", "beta"], "mean"], closed["theta_mean"], rtol=1e-8)
    assert np.allclose(exact.loc[["alpha", "beta"], "sd"], closed["theta_sd"], rtol=1e-6)
    assert np.isclose(exact.loc["sigma_y", "mean"], closed["sigma_mean"], rtol=1e-8)
    assert np.isclose(exact.loc["sigma_y", "sd"], closed["sigma_sd"], rtol=1e-5)
    # Negative control: under posteriordb's priors the coefficients' means move off the flat ones.
    informed = exact_regression(design, *regression_priors()).summary
    assert not np.allclose(informed.loc[["alpha", "beta"], "mean"], closed["theta_mean"], rtol=1e-8)


# Each posterior with the slip that shows on it (tests/test_regression.py): the degrees of freedom
# of sigma_y need many coefficients (86 county intercepts), the theta noise shows anywhere.
MUTANT = {
    "radon_mn-radon_pooled": "theta_noise_without_sigma",
    "radon_mn-radon_county_intercept": "sigma_dof_of_the_marginal",
}


# The 86 county intercepts' run (20 s: half-normal sigma_y draws chain by chain) in make test-all;
# its slip's class runs in the default tier in tests/test_regression.py.
@pytest.mark.parametrize("name", tiered(NAMES, {"radon_mn-radon_pooled"}))
def test_gibbs_regression_agrees_with_the_exact_reference(name, radon_dir):
    design = _design(name, radon_dir)
    exact = load_exact(name)
    theta_prior, sigma_prior = regression_priors()
    kwargs = {"theta_prior": theta_prior, "sigma_prior": sigma_prior, "random_seed": 4}
    idata = sample_design(design, **kwargs)
    c = compare_posteriors(idata, exact, exact.var_names, labels=("gibbs", "exact"))
    assert c.verdict == "agree", str(c)
    wrong = sample_design(design, sweep=mutant_sweep(MUTANT[name]), **kwargs)
    c = compare_posteriors(wrong, exact, exact.var_names, labels=("gibbs", "exact"))
    assert c.verdict == "disagree", str(c)
