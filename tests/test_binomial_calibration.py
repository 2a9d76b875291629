"""Geweke and SBC for the logistic and probit samplers: every scheme passes with proper priors,
and every binomial mutant is caught by at least one of the two batteries."""

import numpy as np
import pytest

from gibbs.datasets import simulate_binomial
from gibbs.kernels import FAMILY_SCHEMES
from gibbs.priors import binary_calibration
from validation.batteries import geweke_designs
from validation.geweke import geweke_test
from validation.integrated_mutants import integrated_mutants
from validation.mutants import mutants_for
from validation.sbc import SBC, GibbsEngine

from .calibration import LEVEL
from .tiers import tiered

PRIORS = binary_calibration()
FAMILIES = ["logistic", "probit"]


def _design(trials):
    """Six groups of 1-4 rows, one X and one U column; 0/1 outcomes or 1-3 trials per row."""
    sizes = np.array([2, 3, 1, 4, 2, 3])
    m = 1 if trials == 1 else 1 + np.arange(sizes.sum()) % 3
    data, _ = simulate_binomial(6, sizes, trials=m, seed=1)
    return data


# Default tier: every scheme on rows of 1 to 3 trials (the design on which a slip in how trials
# enter shows); the Bernoulli design of every scheme in make test-all.
@pytest.mark.parametrize("trials", tiered([1, 3], {3}))
@pytest.mark.parametrize(
    # The default scheme in the default tier; the others (their mutants' Geweke runs stay) in
    # make test-all.
    "scheme",
    tiered(["blocked", "collapsed", "componentwise", "integrated"], {"collapsed"}),
)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_binomial_scheme_passes_geweke(family, scheme, trials):
    result = geweke_test(
        _design(trials),
        PRIORS,
        FAMILY_SCHEMES[family][scheme],
        chains=200,
        iterations=500,
        seed=1,
        level=LEVEL,
        family=family,
    )
    assert result.passed, f"{result}\n{result.table}"


_SBC_GRID = [(f, t) for f in FAMILIES for t in (1, 3)]


@pytest.mark.parametrize(
    ("family", "trials"),
    # The probit's SBC (65 s on Bernoulli rows) in make test-all; its Geweke runs stay.
    tiered(_SBC_GRID, {("logistic", 3)}, ids=[f"{f}-{t}" for f, t in _SBC_GRID]),
)
def test_default_binomial_sampler_passes_sbc(family, trials):
    engine = GibbsEngine(family=family)
    result = SBC(_design(trials), PRIORS, engine, replications=200, seed=1).run(
        progressbar=False, level=LEVEL
    )
    assert result.passed, f"{result}\n{result.tests}"


# Which battery catches which mutant (both, unless noted): measured with the seeds below.
GEWEKE_BLIND = {"probit_untruncated"}
# Slips that are exact on 0/1 rows (validation.inertness finds them so on _design(1)): they are
# looked for where rows have several trials.
NEEDS_TRIALS = {"pg_one_trial"}


# The integrated scheme's mutants (validation.integrated_mutants) are tested on the unbalanced
# design below: on these six groups of Bernoulli rows SBC at 200 replications misses some of them.
_INTEGRATED = {f: {m.name for m in integrated_mutants(f)} for f in FAMILIES}
_MUTANT_GRID = [(f, m) for f in FAMILIES for m in sorted(mutants_for(f)) if m not in _INTEGRATED[f]]


@pytest.mark.parametrize(
    ("family", "mutant"),
    tiered(
        _MUTANT_GRID,
        {("logistic", "pg_double_shape"), ("probit", "probit_untruncated")},
        ids=[f"{f}-{m}" for f, m in _MUTANT_GRID],
    ),
)
def test_binomial_mutants_are_caught(family, mutant):
    sweep = mutants_for(family)[mutant].sweep
    design = _design(3 if mutant in NEEDS_TRIALS else 1)
    with np.errstate(all="ignore"):
        sbc = SBC(
            design, PRIORS, GibbsEngine(sweep=sweep, family=family), replications=200, seed=1
        ).run(progressbar=False, level=LEVEL)
        geweke = geweke_test(design, PRIORS, sweep, seed=1, level=LEVEL, family=family)
    assert not sbc.passed, str(sbc)
    if mutant in GEWEKE_BLIND:
        # A sampler that ignores the data samples the prior, and the successive-conditional
        # simulator then reproduces p(theta) p(y | theta) exactly: Geweke's test cannot see it.
        # SBC's rank of the log-likelihood can (and the NUTS comparison does).
        assert geweke.passed
        assert sbc.tests.loc["loglik", ["reject_chi2", "reject_ecdf"]].any()
    else:
        assert not geweke.passed, str(geweke)


_INTEGRATED_GRID = [(f, m) for f in FAMILIES for m in sorted(_INTEGRATED[f])]


@pytest.mark.parametrize(
    ("family", "mutant"),
    tiered(
        _INTEGRATED_GRID,
        {("probit", "probit_slice_after_collapse")},
        ids=[f"{f}-{m}" for f, m in _INTEGRATED_GRID],
    ),
)
def test_integrated_scheme_mutants_fail_geweke_on_the_unbalanced_design(family, mutant):
    import gibbs
    from gibbs.datasets import load_radon_action_level

    spec = gibbs.specify(load_radon_action_level(), family=family)
    sweep = mutants_for(family)[mutant].sweep
    result = geweke_designs(
        spec, sweep, designs=("unbalanced",), stress=False, level=LEVEL, chains=100, iterations=300
    )
    assert not result.passed, result.table


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_integrated_scheme_passes_geweke_on_the_unbalanced_design_under_stress(family):
    # The positive control of the test above, with the slice stress settings its blocks read.
    import gibbs
    from gibbs.datasets import load_radon_action_level

    spec = gibbs.specify(load_radon_action_level(), family=family)
    result = geweke_designs(spec, spec.schemes()["integrated"], designs=("unbalanced",))
    assert result.passed, result.table
    assert ("unbalanced", "narrow-slices") in result.table.index
