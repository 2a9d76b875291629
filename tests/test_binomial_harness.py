"""The logistic and probit samplers against their NUTS twins (radon action level, synthetic and
separated data; stored long references), the binomial mutant catalogue, and
``gibbs-suite compare --family``."""

import numpy as np
import pytest

import gibbs
from validation.build_goldens import GOLDENS, load_golden
from validation.cli import main
from validation.compare import compare_posteriors
from validation.compare_job import run_mutants
from validation.mutants import mutants_for

from .tiers import tiered

DATASETS = ["radon_action_level", "synthetic_trials", "separation"]


@pytest.fixture(scope="module")
def references():
    cache = {}

    def get(name, family):
        key = f"{name}_{family}"
        if key not in cache:
            case = GOLDENS[key].case()
            cache[key] = (case, load_golden(key, case))
        return cache[key]

    return get


_GRID = [(n, f) for n in DATASETS for f in ("logistic", "probit")]


@pytest.mark.parametrize(
    ("name", "family"),
    # Probit under separation needs 15,000 draws (about 45 s), probit on synthetic trials 23 s:
    # make test-all (the logistic family keeps both designs, the probit radon's).
    tiered(
        _GRID,
        set(_GRID) - {("separation", "probit"), ("synthetic_trials", "probit")},
        ids=[f"{n}-{f}" for n, f in _GRID],
    ),
)
def test_binomial_gibbs_agrees_with_nuts_twin(references, name, family):
    case, ref = references(name, family)
    # Under separation sigma_alpha mixes slowly (min ESS per draw about 5% for the logistic and
    # 1.5% for the probit data augmentation; docs/benchmarks.md): longer chains there, so that
    # the comparison has the ESS it requires.
    draws = {"logistic": 5000, "probit": 15000}[family] if name == "separation" else 2000
    g = gibbs.sample(
        case.data, family=family, draws=draws, seed=1, progressbar=False, log_likelihood=False
    )
    c = compare_posteriors(g, ref, var_names=case.var_names(), labels=("gibbs", "nuts"))
    assert c.verdict == "agree", str(c)
    assert all(np.isfinite(g.posterior[v].values).all() for v in g.posterior.data_vars)


# The same mutants are caught by Geweke and SBC in the default tier
# (tests/test_binomial_calibration.py); against NUTS on radon in make test-all.
@pytest.mark.slow
@pytest.mark.parametrize("family", ["logistic", "probit"])
def test_every_binomial_mutant_is_caught_on_radon(references, family):
    case, ref = references("radon_action_level", family)
    table = run_mutants(
        case.spec(), reference_idata=ref, draws=2000, tune=500, chains=4, seed=1, level=0.01
    )
    assert set(table.index) == set(mutants_for(family)) and len(table) >= 3
    # Radon's rows are 0/1: a Polya-Gamma shape of 1 whatever the trials is exact there.
    assert set(table.index[table["inert"]]) == {"pg_one_trial"} & set(table.index)
    assert table.loc[~table["inert"], "caught"].all(), table[["verdict", "max_abs_z"]]


@pytest.mark.pymc
@pytest.mark.parametrize(
    ("family", "dataset", "draws", "expect"),
    [
        pytest.param(
            "logistic",
            "separation",
            "5000",
            "only failures (intercept -> -inf)",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "probit",
            "radon",
            "2000",
            "dataset: radon (M2), above_action_level",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_compare_command_runs_the_binomial_comparison(capsys, family, dataset, draws, expect):
    args = ["compare", "--family", family, "--dataset", dataset, "--reference", "nutpie"]
    code = main([*args, "--draws", draws, "--no-report"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "verdict: AGREE" in out
    assert expect in out
