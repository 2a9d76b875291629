"""The Gibbs sampler against its NUTS twin, and the mutant catalogue against the same check."""

import numpy as np
import pytest

import gibbs
from gibbs.datasets import load_radon, simulate_hierarchical
from reference_models.fit import fit_reference
from reference_models.twins import model_var_names
from validation.compare import compare_posteriors
from validation.compare_job import run_mutants
from validation.mutants import MUTANTS

pytestmark = pytest.mark.pymc


def _synthetic():
    sizes = np.array([3, 8, 1, 12, 5, 20, 2, 9])
    data, _ = simulate_hierarchical(
        8, sizes, beta=[0.8], gamma=[1.0, 0.5], sigma_y=0.5, sigma_alpha=0.7, seed=4
    )
    return data


DATASETS = {
    "radon-M0": lambda: load_radon(uranium=False, floor=False),
    "radon-M1": lambda: load_radon(uranium=False),
    "radon-M2": lambda: load_radon(),
    "synthetic": _synthetic,
}


@pytest.fixture(scope="module")
def references():
    cache = {}

    def get(name):
        if name not in cache:
            data = DATASETS[name]()
            cache[name] = (
                data,
                fit_reference(data, sampler="nutpie", seed=3, draws=2000, log_likelihood=False),
            )
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_gibbs_agrees_with_nuts_twin(references, name):
    data, ref = references(name)
    g = gibbs.sample(data, draws=2000, seed=1, progressbar=False, log_likelihood=False)
    c = compare_posteriors(g, ref, var_names=model_var_names(data), labels=("gibbs", "nuts"))
    assert c.verdict == "agree", str(c)


def test_every_mutant_is_caught_on_synthetic(references):
    data, ref = references("synthetic")
    table = run_mutants(
        data, reference_idata=ref, draws=2000, tune=500, chains=4, seed=1, level=0.01
    )
    assert set(table.index) == set(MUTANTS) and len(MUTANTS) >= 8
    assert table["caught"].all(), table[["verdict", "max_abs_z"]]
