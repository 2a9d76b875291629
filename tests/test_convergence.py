"""The convergence report made after every run, and the vectorised diagnostics behind it."""

import json
import warnings

import arviz as az
import numpy as np
import pytest

import gibbs
from gibbs import diagnostics
from gibbs.convergence import ConvergenceWarning, report, stored
from gibbs.datasets import load_radon


@pytest.fixture(scope="module")
def radon():
    return load_radon()


def _ar1(seed: int = 0, chains: int = 4, draws: int = 600, params: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    phi = np.linspace(0.0, 0.98, params)
    e = rng.standard_t(3, size=(chains, draws, params))
    x = np.zeros_like(e)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    x[:, :, 0] += np.arange(chains)[:, None]  # chains that disagree: R-hat well above 1
    x[:, :, 1] = 2.5  # a parameter that never moves
    return x


def test_vectorised_diagnostics_equal_arviz():
    x = _ar1()
    ds = az.convert_to_dataset({"v": x})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {
            "bulk": az.ess(ds, method="bulk")["v"].values,
            "tail": az.ess(ds, method="tail")["v"].values,
            "rhat": az.rhat(ds)["v"].values,
        }
    got = {
        "bulk": diagnostics.ess_bulk(x),
        "tail": diagnostics.ess_tail(x),
        "rhat": diagnostics.rhat(x),
    }
    for key in got:
        # Same estimators, same operations: equal up to summation order.
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-10, equal_nan=True)
    assert got["rhat"][0] > 1.1


def test_a_short_poorly_mixing_run_warns_and_names_the_worst_parameter(radon):
    with pytest.warns(ConvergenceWarning, match=r"R-hat above 1.01 .*sigma_alpha"):
        idata = gibbs.sample(
            radon, scheme="componentwise", draws=30, tune=5, seed=1, progressbar=False
        )
    r = stored(idata)
    assert r["converged"] is False and r["worst"]["r_hat"][0][0] == "sigma_alpha"
    assert "Run longer" in r["message"]
    # The report survives a round trip through netCDF (attributes are strings).
    assert json.loads(idata.posterior.attrs["convergence"]) == r


def test_a_converged_run_is_silent_and_the_check_can_be_switched_off(radon):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        idata = gibbs.sample(radon, seed=2, progressbar=False, log_likelihood=False)
    r = stored(idata)
    assert r["converged"] is True and r["max_rhat"] < 1.01 and r["min_ess_bulk"] > 400
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        quiet = gibbs.sample(
            radon,
            scheme="componentwise",
            draws=30,
            tune=5,
            seed=1,
            progressbar=False,
            compute_convergence_checks=False,
        )
    assert stored(quiet) is None


def test_draws_that_never_move_are_a_failure_not_a_pass(radon):
    idata = gibbs.sample(radon, draws=50, tune=0, seed=3, progressbar=False)
    idata.posterior["beta"][:] = 0.7
    r = report(idata)
    assert r["converged"] is False and "never move" in r["message"]
