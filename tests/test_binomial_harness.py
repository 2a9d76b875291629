"""The logistic and probit samplers against their NUTS twins (radon action level, synthetic and
separated data), the binomial mutant catalogue, and ``gibbs-suite compare --family``."""

import numpy as np
import pytest

import gibbs
from gibbs.datasets import load_radon_action_level, simulate_binomial
from reference_models.fit import fit_reference
from reference_models.twins import model_var_names
from validation.cli import main
from validation.compare import compare_posteriors
from validation.compare_job import run_mutants
from validation.mutants import mutants_for

pytestmark = pytest.mark.pymc


def _separation():
    """Groups of 2-6 rows and sigma_alpha = 2: many groups are all-0 or all-1."""
    data, _ = simulate_binomial(
        30, 2 + np.arange(30) % 5, gamma=(0.0, 0.5), sigma_alpha=2.0, seed=0
    )
    return data


DATASETS = {
    "radon-action-level": load_radon_action_level,
    "synthetic-trials": lambda: simulate_binomial(12, 8, trials=3, seed=5)[0],
    "separation": _separation,
}


@pytest.fixture(scope="module")
def references():
    cache = {}

    def get(name, family):
        if (name, family) not in cache:
            data = DATASETS[name]()
            ref = fit_reference(
                data, sampler="nutpie", seed=3, draws=2000, log_likelihood=False, family=family
            )
            cache[name, family] = (data, ref)
        return cache[name, family]

    return get


@pytest.mark.parametrize("family", ["logistic", "probit"])
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_binomial_gibbs_agrees_with_nuts_twin(references, name, family):
    data, ref = references(name, family)
    assert int(ref.sample_stats["diverging"].sum()) == 0
    # Under separation sigma_alpha mixes slowly (min ESS per draw about 5% for the logistic and
    # 1.5% for the probit data augmentation; docs/benchmarks.md): longer chains there, so that
    # the comparison has the ESS it requires.
    draws = {"logistic": 5000, "probit": 15000}[family] if name == "separation" else 2000
    g = gibbs.sample(
        data, family=family, draws=draws, seed=1, progressbar=False, log_likelihood=False
    )
    c = compare_posteriors(
        g, ref, var_names=model_var_names(data, family), labels=("gibbs", "nuts")
    )
    assert c.verdict == "agree", str(c)
    assert all(np.isfinite(g.posterior[v].values).all() for v in g.posterior.data_vars)


@pytest.mark.parametrize("family", ["logistic", "probit"])
def test_every_binomial_mutant_is_caught_on_radon(references, family):
    data, ref = references("radon-action-level", family)
    table = run_mutants(
        data,
        reference_idata=ref,
        draws=2000,
        tune=500,
        chains=4,
        seed=1,
        level=0.01,
        family=family,
    )
    assert set(table.index) == set(mutants_for(family)) and len(table) >= 3
    assert table["caught"].all(), table[["verdict", "max_abs_z"]]


@pytest.mark.parametrize(
    ("family", "dataset", "draws", "expect"),
    [
        ("logistic", "separation", "5000", "only failures (intercept -> -inf)"),
        ("probit", "radon", "2000", "dataset: radon (M2), above_action_level"),
    ],
)
def test_compare_command_runs_the_binomial_comparison(capsys, family, dataset, draws, expect):
    args = ["compare", "--family", family, "--dataset", dataset, "--reference", "nutpie"]
    code = main([*args, "--draws", draws, "--no-report"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "verdict: AGREE" in out
    assert expect in out
