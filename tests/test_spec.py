"""gibbs.specify and the generic sampler checks, over the configuration registry."""

import numpy as np
import pytest

import gibbs
from tests.configurations import GENERAL_CONFIGS

NAMES = sorted(GENERAL_CONFIGS)
RUN = {"draws": 30, "tune": 20, "progressbar": False}


@pytest.mark.parametrize("name", NAMES)
def test_a_spec_and_the_same_arguments_give_bit_identical_draws(name):
    spec = GENERAL_CONFIGS[name]()
    a = gibbs.sample(spec, chains=2, seed=3, **RUN)
    b = gibbs.sample(
        spec.data,
        family=spec.family.name,
        slopes=list(spec.slopes) or None,
        factors=spec.factor_labels or None,
        chains=2,
        seed=3,
        **RUN,
    )
    for var in a.posterior.data_vars:
        np.testing.assert_array_equal(a.posterior[var].values, b.posterior[var].values)
    # Negative control: another seed gives other draws.
    c = gibbs.sample(spec, chains=2, seed=4, **RUN)
    assert not np.array_equal(a.posterior["alpha"].values, c.posterior["alpha"].values)


@pytest.mark.parametrize("name", NAMES)
def test_a_chains_draws_do_not_depend_on_the_other_chains(name):
    spec = GENERAL_CONFIGS[name]()
    two = gibbs.sample(spec, chains=2, seed=5, **RUN)
    three = gibbs.sample(spec, chains=3, seed=5, **RUN)
    for var in two.posterior.data_vars:
        np.testing.assert_allclose(
            two.posterior[var].values, three.posterior[var].values[:2], rtol=1e-12, atol=1e-12
        )
    # Negative control: the chains are not copies of each other.
    alpha = three.posterior["alpha"].values
    assert not np.allclose(alpha[0], alpha[1])


def test_a_spec_refuses_a_second_description_of_the_model():
    spec = GENERAL_CONFIGS["slopes-logistic"]()
    with pytest.raises(ValueError, match="gibbs.specify"):
        gibbs.sample(spec, family="probit", **RUN)
    with pytest.raises(ValueError, match="gibbs.specify"):
        gibbs.sample(spec, priors=spec.priors, **RUN)


def test_specify_validates_before_any_sampling():
    spec = GENERAL_CONFIGS["slopes+factors-gaussian"]()
    with pytest.raises(ValueError, match="need SlopesPriors"):
        gibbs.specify(spec.data, slopes=list(spec.slopes), priors=gibbs.Priors())
    with pytest.raises(ValueError, match="not columns of X"):
        gibbs.specify(spec.data, slopes=["nope"])
    with pytest.raises(ValueError, match="Normal prior"):
        gibbs.specify(
            GENERAL_CONFIGS["slopes-logistic"]().data,
            family="logistic",
            slopes=list(spec.slopes),
            priors=gibbs.slopes.SlopesPriors(),
        )
    assert spec.structure == "slopes+factors" and spec.implementation.name == "general"
    assert [line.split(":")[0] for line in spec.describe()] == [
        "varying slopes by group",
        "further factor h",
    ]
