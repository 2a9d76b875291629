"""Geweke and SBC for the varying-slopes sampler: every scheme passes with proper priors, and
every varying-slopes mutant fails."""

import dataclasses

import numpy as np
import pytest

from gibbs.covariance import HuangWand, InverseWishart
from gibbs.datasets import simulate_slopes
from gibbs.slopes import SLOPES_SCHEMES, slopes_calibration_priors
from validation.slopes_calibration import check_geweke_priors, geweke_slopes, sbc_slopes
from validation.slopes_mutants import SLOPES_MUTANTS

from .calibration import LEVEL
from .tiers import tiered

PRIORS = {
    # Proper and light-tailed enough for Geweke's functions (check_geweke_priors).
    "inverse_wishart": slopes_calibration_priors(),
    "huang_wand": dataclasses.replace(
        slopes_calibration_priors(), Sigma=HuangWand(10.0, (1.0, 0.5))
    ),
}


@pytest.fixture(scope="module")
def design():
    """Eight groups of 0-6 rows; one varying slope, one fixed predictor, one U column."""
    data, slopes, _ = simulate_slopes(
        8, np.array([0, 1, 2, 3, 4, 5, 6, 3]), gamma=[1.0, 0.5], beta=[0.3], seed=4
    )
    return data, slopes


def _geweke(design, priors, sweep):
    return geweke_slopes(*design, priors, sweep, chains=200, iterations=500, seed=1, level=LEVEL)


_GRID = [(s, p) for s in sorted(SLOPES_SCHEMES) for p in sorted(PRIORS)]


@pytest.mark.parametrize(
    ("scheme", "prior"),
    tiered(
        _GRID,
        # The default scheme in the default tier, every scheme in make test-all.
        {("collapsed", "huang_wand")},
        ids=[f"{s}-{p}" for s, p in _GRID],
    ),
)
def test_every_slopes_scheme_passes_geweke(design, scheme, prior):
    result = _geweke(design, PRIORS[prior], SLOPES_SCHEMES[scheme])
    assert result.passed, f"{result}\n{result.table}"


@pytest.mark.parametrize(
    "name",
    # One mutant in the default tier (SBC catches another there); all of them in make test-all.
    tiered(sorted(SLOPES_MUTANTS), {"sigma_without_groups"}),
)
def test_every_slopes_mutant_fails_geweke(design, name):
    result = _geweke(design, PRIORS["inverse_wishart"], SLOPES_MUTANTS[name].sweep)
    assert not result.passed, f"{name} passed Geweke's test:\n{result.table}"


def test_default_slopes_scheme_passes_sbc(design):
    result = sbc_slopes(*design, PRIORS["inverse_wishart"], replications=200, seed=1)
    assert result.passed, f"{result}\n{result.tests.sort_values('p_ecdf').head()}"


@pytest.mark.parametrize(
    "name",
    tiered(["collapsed_without_jacobian", "sigma_diagonal_scatter"], {"sigma_diagonal_scatter"}),
)
def test_slopes_mutants_fail_sbc(design, name):
    result = sbc_slopes(
        *design, PRIORS["inverse_wishart"], SLOPES_MUTANTS[name].sweep, replications=200, seed=1
    )
    assert not result.passed, f"{name} passed SBC"


# Two varying slopes in make test-all; one slope's Geweke runs stay in the default tier.
@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["blocked", "collapsed"])
def test_two_varying_slopes_pass_geweke(scheme):
    """K = 3: the general-K linear algebra (closed forms cover K <= 2)."""
    data, slopes, _ = simulate_slopes(
        8,
        np.array([0, 2, 3, 4, 5, 6, 7, 3]),
        mean_slopes=[-0.5, 0.3],
        Sigma=np.diag([0.3, 0.2, 0.1]),
        beta=[0.3],
        seed=4,
    )
    priors = dataclasses.replace(PRIORS["inverse_wishart"], Sigma=InverseWishart(8.0, 1.0))
    result = geweke_slopes(
        data,
        slopes,
        priors,
        SLOPES_SCHEMES[scheme],
        chains=200,
        iterations=500,
        seed=2,
        level=LEVEL,
    )
    assert result.passed, f"{result}\n{result.table}"


@pytest.mark.parametrize(
    ("Sigma", "K", "refused"),
    [
        (InverseWishart(5.0, 1.0), 2, True),  # Sigma_kk ~ IG(2, 1/2): no second moment
        (InverseWishart(6.0, 1.0), 2, False),
        (InverseWishart(6.0, 1.0), 3, True),
        (HuangWand(4.0, 1.0), 2, True),
        (HuangWand(5.0, 1.0), 2, False),
    ],
)
def test_geweke_refuses_priors_whose_test_functions_have_no_variance(Sigma, K, refused):
    priors = dataclasses.replace(PRIORS["inverse_wishart"], Sigma=Sigma)
    if refused:
        with pytest.raises(ValueError, match="finite"):
            check_geweke_priors(priors, K)
    else:
        check_geweke_priors(priors, K)
