"""Geweke's joint-distribution test: every scheme passes under every proper prior family, and
broken samplers fail (the default test run, small model)."""

import numpy as np
import pytest

from gibbs.datasets import simulate_hierarchical
from gibbs.kernels import SCHEMES
from gibbs.priors import HalfNormal, HalfStudentT, InverseGamma, Normal, Priors
from validation.geweke import geweke_test
from validation.mutants import MUTANTS

LEVEL = 0.01

PRIORS = {
    "inverse_gamma": Priors(
        beta=Normal(0, 1),
        gamma=Normal(0, 1),
        sigma_y=InverseGamma(3, 2),
        sigma_alpha=InverseGamma(3, 1),
    ),
    "half_t": Priors(
        beta=Normal(0, 1),
        gamma=Normal(0, 1),
        sigma_y=HalfStudentT(4, 1),
        sigma_alpha=HalfStudentT(4, 0.7),
    ),
    # Half-normal on one scale at a time: its GIG draw runs chain by chain (scipy), so the two
    # families keep the default test fast.
    "half_normal_alpha": Priors(
        beta=Normal(0, 1),
        gamma=Normal(0, 1),
        sigma_y=InverseGamma(3, 2),
        sigma_alpha=HalfNormal(0.7),
    ),
    "half_normal_y": Priors(
        beta=Normal(0, 1), gamma=Normal(0, 1), sigma_y=HalfNormal(1), sigma_alpha=InverseGamma(3, 1)
    ),
}


@pytest.fixture(scope="module")
def design():
    d, _ = simulate_hierarchical(
        6, np.array([2, 3, 1, 4, 2, 3]), beta=[0.5], gamma=[1.0, 0.5], seed=1
    )
    return d


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
@pytest.mark.parametrize("family", sorted(PRIORS))
def test_every_scheme_passes_geweke(design, family, scheme):
    # 200 chains so that the autocorrelation-aware MCSE of the successive-conditional simulator
    # can be trusted (with 40 chains a slowly mixing joint chain made it too small); fewer
    # iterations where scipy's chain-by-chain GIG draw is needed.
    iterations = 300 if family.startswith("half_normal") else 500
    result = geweke_test(
        design,
        PRIORS[family],
        SCHEMES[scheme],
        chains=200,
        iterations=iterations,
        seed=1,
        level=LEVEL,
    )
    assert result.passed, f"{result}\n{result.table}"


@pytest.mark.parametrize("mutant", ["plugin_variance", "df_off_by_one", "sigma_alpha_over_n"])
def test_broken_samplers_fail_geweke(design, mutant):
    result = geweke_test(
        design, PRIORS["inverse_gamma"], MUTANTS[mutant].sweep, seed=1, level=LEVEL
    )
    assert not result.passed, str(result)


def test_geweke_needs_proper_priors(design):
    with pytest.raises(ValueError, match="proper priors"):
        geweke_test(design, Priors(), SCHEMES["collapsed"])
