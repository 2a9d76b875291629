import numpy as np
import pandas as pd
import pytest

from gibbs.data import HierarchicalData
from gibbs.datasets import load_radon
from reference_models.pooling import complete_pooling, indicator_variables, no_pooling


def test_gelman_hill_published_numbers():
    """Gelman & Hill (2007) section 12.2, radon Minnesota, printed to two decimals."""
    d = load_radon(uranium=False)
    cp = complete_pooling(d)
    assert round(cp.coef.loc["intercept", "estimate"], 2) == 1.33
    assert round(cp.coef.loc["intercept", "se"], 2) == 0.03
    assert round(cp.coef.loc["floor", "estimate"], 2) == -0.61
    assert round(cp.coef.loc["floor", "se"], 2) == 0.07
    assert round(cp.sigma, 2) == 0.82
    npf = no_pooling(d)
    assert round(npf.coef.loc["floor", "estimate"], 2) == -0.72
    assert round(npf.coef.loc["floor", "se"], 2) == 0.07
    assert round(npf.sigma, 2) == 0.76


def test_indicator_variables_span_no_pooling():
    d = load_radon(uranium=False)
    npf, iv = no_pooling(d), indicator_variables(d)
    np.testing.assert_allclose(npf.fitted, iv.fitted, atol=1e-10)
    assert iv.coef.attrs["reference_group"] == "AITKIN"
    # intercept + contrast = the no-pooling intercept of that county
    np.testing.assert_allclose(
        iv.coef.loc["intercept", "estimate"] + iv.coef.loc["d[ANOKA]", "estimate"],
        npf.group_intercepts["ANOKA"],
    )


def test_groups_without_rows_are_reported_not_nan():
    df = pd.DataFrame(
        {"y": [1.0, 2.0, 3.0, 2.5, 1.5, 0.5], "g": list("aabbcc"), "x": [0, 1, 0, 1, 1, 0.0]}
    )
    gd = pd.DataFrame({"u": [0.1, 0.2, 0.3, 0.4]}, index=["a", "b", "c", "empty"])
    d = HierarchicalData.from_dataframe(df, y="y", group="g", x=["x"], u=["u"], group_data=gd)
    fit = no_pooling(d)
    assert fit.unestimable_groups == ["empty"]
    assert "empty" not in fit.group_intercepts.index
    assert np.isfinite(fit.group_intercepts).all()
    assert indicator_variables(d).unestimable_groups == ["empty"]


@pytest.mark.pymc
@pytest.mark.parametrize(
    "kind",
    [
        # The PyMC models by nutpie: make test-all (the baselines are drawn exactly by default,
        # tests/test_regression.py).
        pytest.param("complete", marks=pytest.mark.slow),
        pytest.param("no", marks=pytest.mark.slow),
        pytest.param("indicator", marks=pytest.mark.slow),
    ],
)
def test_bayesian_baselines_center_on_least_squares(kind):
    """With flat priors the posterior mean of beta is the least-squares estimate (MCSE-scaled)."""
    import arviz as az

    from reference_models.fit import sample_model
    from reference_models.pooling import (
        complete_pooling_model,
        indicator_variables_model,
        no_pooling_model,
    )

    d = load_radon(uranium=False)
    builders = {
        "complete": (complete_pooling_model, complete_pooling),
        "no": (no_pooling_model, no_pooling),
        "indicator": (indicator_variables_model, indicator_variables),
    }
    build, classical = builders[kind]
    idata = sample_model(build(d), "nutpie", seed=4, log_likelihood=False)
    mean = float(idata.posterior["beta"].mean())
    mcse = float(az.mcse(idata.posterior["beta"]).to_array().max())
    ols = classical(d).coef.loc["floor", "estimate"]
    assert abs(mean - ols) / mcse < 3.29  # two-sided 0.001
    # Negative control: the same check rejects the estimate of the other baseline.
    other = (no_pooling if kind == "complete" else complete_pooling)(d).coef.loc[
        "floor", "estimate"
    ]
    assert abs(mean - other) / mcse > 3.29
