"""The Gibbs sampler against its NUTS twin, and the mutant catalogue against the same check.

The NUTS posteriors are the stored long references of :mod:`validation.build_goldens` (a NUTS
run inside the test would make its outcome depend on the machine's floating-point path).
"""

import pytest

import gibbs
from validation.build_goldens import GOLDENS, load_golden
from validation.compare import compare_posteriors
from validation.compare_job import run_mutants
from validation.mutants import INERT_UNDER_FLAT_PRIORS, MUTANTS

# Radon M0-M2 against their goldens: tests/test_golden.py.
NAMES = ["synthetic_unbalanced"]


@pytest.fixture(scope="module")
def references():
    cache = {}

    def get(name):
        if name not in cache:
            case = GOLDENS[name].case()
            cache[name] = (case, load_golden(name, case))
        return cache[name]

    return get


@pytest.mark.parametrize("name", NAMES)
def test_gibbs_agrees_with_nuts_twin(references, name):
    case, ref = references(name)
    g = gibbs.sample(case.data, draws=2000, seed=1, progressbar=False, log_likelihood=False)
    c = compare_posteriors(g, ref, var_names=case.var_names(), labels=("gibbs", "nuts"))
    assert c.verdict == "agree", str(c)


def test_every_mutant_is_caught_on_synthetic(references):
    case, ref = references("synthetic_unbalanced")
    table = run_mutants(
        case.spec(), reference_idata=ref, draws=2000, tune=500, chains=4, seed=1, level=0.01
    )
    assert set(table.index) == set(MUTANTS) and len(MUTANTS) >= 8
    # Flat priors: a slip inside the normal prior is the correct sampler, found exact here.
    assert set(table.index[table["inert"]]) == INERT_UNDER_FLAT_PRIORS, table["verdict"]
    assert table.loc[~table["inert"], "caught"].all(), table[["verdict", "max_abs_z"]]
