"""The combinations the general kernel unlocked, against stored long NUTS runs of their twins:
radon M3 with a binary outcome (varying slopes x logistic) and Gelman & Hill's election88 polls
(several factors x logistic), plus the general mutant catalogue against the M3 reference."""

import os
from pathlib import Path

import pytest

import gibbs
from validation.build_goldens import GOLDENS, load_golden
from validation.compare import compare_posteriors
from validation.compare_job import run_mutants

_POLLS = Path(__file__).resolve().parents[2] / "shared" / "data" / "election88"


@pytest.fixture(scope="module")
def m3_logistic():
    case = GOLDENS["radon_M3_logistic"].case()
    return case, load_golden("radon_M3_logistic", case)


@pytest.fixture(scope="module")
def election88():
    folder = os.environ.get("GIBBS_SUITE_ELECTION88_DIR") or (_POLLS if _POLLS.is_dir() else None)
    if folder is None:
        pytest.skip("election88 data not available (set GIBBS_SUITE_ELECTION88_DIR)")
    case = GOLDENS["election88_logistic"].case(data_dir=folder)
    return case, load_golden("election88_logistic", case)


# 50 s: make test-all. The general kernel keeps its Geweke and SBC runs in the default tier, the
# logistic family its NUTS comparison on radon (tests/test_binomial_harness.py).
@pytest.mark.slow
def test_m3_logistic_gibbs_agrees_with_nuts_twin(m3_logistic):
    case, golden = m3_logistic
    g = gibbs.sample(case.data, seed=5, draws=3000, progressbar=False, **case.sample_kwargs())
    assert g.posterior.attrs["scheme"] == "collapsed"
    result = compare_posteriors(g, golden, case.var_names(), labels=("gibbs", "nuts"))
    assert result.verdict == "agree", f"{result}\n{result.failing()}"


# 90 s, the longest test of the default tier: the logistic family keeps its default-tier NUTS
# comparisons on radon (M3 here, the action level in test_binomial_harness).
@pytest.mark.slow
def test_election88_gibbs_agrees_with_nuts_twin(election88):
    case, golden = election88
    g = gibbs.sample(case.data, seed=6, draws=3000, progressbar=False, **case.sample_kwargs())
    result = compare_posteriors(g, golden, case.var_names(), labels=("gibbs", "nuts"))
    assert result.verdict == "agree", f"{result}\n{result.failing()}"


@pytest.mark.slow
def test_every_general_mutant_is_caught_on_m3_logistic(m3_logistic):
    case, golden = m3_logistic
    table = run_mutants(
        case.spec(), reference_idata=golden, draws=2000, tune=500, chains=4, seed=1, level=0.01
    )
    assert len(table) >= 3 and table["caught"].all(), table[["verdict", "max_abs_z"]]
