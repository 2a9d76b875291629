"""Geweke's joint-distribution test: every scheme passes under every proper prior family, and
broken samplers fail (the default test run, small model)."""

import pytest

from gibbs.kernels import SCHEMES
from gibbs.priors import Normal, Priors
from validation.geweke import geweke_test
from validation.mutants import MUTANTS

from .calibration import LEVEL, PRIORS, small_design
from .tiers import tiered

# Default tier: every scheme under the inverse-gamma priors, the half-t priors and the
# half-normal prior on sigma_alpha with the collapsed scheme; the rest of the grid (the
# half-normal GIG draws run chain by chain: 10-40 s each) in make test-all.
_GRID = [(f, s) for f in sorted(PRIORS) for s in sorted(SCHEMES)]
_DEFAULT_TIER = {(f, s) for f, s in _GRID if f == "inverse_gamma" or s == "collapsed"} - {
    ("half_normal_y", "collapsed")
}


@pytest.fixture(scope="module")
def design():
    return small_design()


@pytest.mark.parametrize(
    ("family", "scheme"), tiered(_GRID, _DEFAULT_TIER, ids=[f"{f}-{s}" for f, s in _GRID])
)
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


@pytest.mark.parametrize(
    "mutant",
    tiered(
        [
            "plugin_variance",
            "df_off_by_one",
            "sigma_alpha_over_n",
            "isir_unweighted",
            "marginal_without_log_det",
        ],
        # isir_unweighted: its default-tier check is under a deliberately poor proposal
        # (tests/test_designs.py), where a wrong weight must show.
        {"plugin_variance", "df_off_by_one", "sigma_alpha_over_n"},
    ),
)
def test_broken_samplers_fail_geweke(design, mutant):
    result = geweke_test(
        design, PRIORS["inverse_gamma"], MUTANTS[mutant].sweep, seed=1, level=LEVEL
    )
    assert not result.passed, str(result)


def test_geweke_refuses_priors_without_fourth_moments(design):
    from gibbs.priors import HalfCauchy

    with pytest.raises(ValueError, match="fourth moment"):
        geweke_test(
            design,
            Priors(
                beta=Normal(0, 1),
                gamma=Normal(0, 1),
                sigma_y=HalfCauchy(1.0),
                sigma_alpha=HalfCauchy(1.0),
            ),
            SCHEMES["collapsed"],
        )


def test_geweke_needs_proper_priors(design):
    with pytest.raises(ValueError, match="proper priors"):
        geweke_test(design, Priors(), SCHEMES["collapsed"])
