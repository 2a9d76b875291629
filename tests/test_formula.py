"""The formula interface: the same data and bit-identical draws as the array interface, the
automatic split into individual- and group-level predictors, and clear refusals."""

import numpy as np
import pandas as pd
import pytest

import gibbs
from gibbs.data import HierarchicalData
from gibbs.datasets import load_radon_frame
from gibbs.formula import from_formula
from validation.cli import main

FORMULA = "log_radon ~ floor + log_uranium + (1 | county)"


@pytest.fixture(scope="module")
def radon_df():
    houses, counties = load_radon_frame()
    df = houses.join(counties, on="county")
    return df.assign(above=(df["log_radon"] > np.log(4.0)).astype(float))


@pytest.mark.parametrize("family", ["gaussian", "logistic"])
def test_formula_gives_bit_identical_draws_to_the_array_interface(radon_df, family):
    y = "log_radon" if family == "gaussian" else "above"
    arrays = HierarchicalData.from_dataframe(
        radon_df, y=y, group="county", x=["floor"], u=["log_uranium"]
    )
    kw = dict(family=family, draws=50, tune=50, chains=2, seed=9, progressbar=False)
    a = gibbs.sample(f"{y} ~ floor + log_uranium + (1 | county)", data=radon_df, **kw)
    b = gibbs.sample(arrays, **kw)
    for name in a.posterior.data_vars:
        np.testing.assert_array_equal(a.posterior[name].values, b.posterior[name].values)
    assert list(a.posterior["gamma"].coords["u_coef"].values) == ["intercept", "log_uranium"]
    # Control: another seed gives other draws, so equality above is not vacuous.
    c = gibbs.sample(arrays, **{**kw, "seed": 10})
    assert not np.array_equal(a.posterior["alpha"].values, c.posterior["alpha"].values)


def test_terms_constant_within_groups_become_group_level_predictors():
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(6), 5)
    u = rng.normal(size=6)
    df = pd.DataFrame(
        {
            "y": rng.normal(size=30),
            "x": rng.normal(size=30),
            "u": u[g],
            "f": np.array(["a", "b", "c"])[rng.integers(0, 3, 30)],
            "g": [f"grp{k}" for k in g],
        }
    )
    d = from_formula("y ~ np.exp(u) + x + C(f) + (1 | g)", df)
    assert d.x_names == ("x", "C(f)[b]", "C(f)[c]")
    assert d.u_names == ("intercept", "np.exp(u)")
    np.testing.assert_allclose(d.U[:, 1], np.exp(u))
    assert d.group_dim == "g" and d.group_names[0] == "grp0"


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("log_radon ~ 1 + (1 + floor | county)", "among the common terms"),
        ("log_radon ~ floor + (1 | county) + (1 + floor | region)", "not by the finest"),
        ("log_radon ~ floor + (0 + floor | county)", "no intercept"),
        ("log_radon ~ 0 + floor + (1 | county)", "removes the intercept"),
        ("log_radon ~ basement + (1 | county)", r"columns not in the DataFrame: \['basement'\]"),
        # lme4 reads these as uncorrelated effects: refused, never merged into one term.
        ("log_radon ~ floor + (1 | county) + (0 + floor | county)", "separate terms for one"),
        ("log_radon ~ floor + (1 + floor || county)", "uncorrelated varying effects"),
        ("floor ~ floor + (1 | county)", "both the response and a predictor"),
        ("log_radon ~ offset(np.log(nowhere)) + (1 | county)", "offset .* does not evaluate"),
        ("log_radon ~ floor + C(county) + (1 | county)", "grouping factor and also a common"),
    ],
)
def test_unsupported_formulas_are_refused_with_the_reason(radon_df, formula, message):
    df = radon_df.assign(region=radon_df["county"].astype(str).str[0])
    with pytest.raises(ValueError, match=message):
        gibbs.sample(formula, data=df, progressbar=False)


def test_a_transformed_response_is_evaluated(radon_df):
    df = radon_df.assign(radon=np.exp(radon_df["log_radon"]))
    a = from_formula("np.log(radon) ~ floor + (1 | county)", df)
    b = from_formula(FORMULA.replace(" + log_uranium", ""), radon_df)
    np.testing.assert_allclose(a.y, b.y, rtol=1e-12)


def test_missing_values_and_bad_calls_are_named(radon_df):
    df = radon_df.copy()
    df.loc[[3, 7], "floor"] = np.nan
    with pytest.raises(
        ValueError, match=r"column 'floor' has 2 missing value\(s\) \(first at row 3"
    ):
        gibbs.sample(FORMULA, data=df, progressbar=False)
    with pytest.raises(ValueError, match="a formula needs data=, a pandas DataFrame"):
        gibbs.sample(FORMULA, progressbar=False)
    hd = from_formula(FORMULA, radon_df)
    with pytest.raises(ValueError, match="pass the data once"):
        gibbs.sample(hd, data=hd, progressbar=False)
    # The keyword spelling of the array interface still works.
    assert gibbs.sample(data=hd, draws=5, tune=5, progressbar=False).posterior.sizes["draw"] == 5


def test_binomial_trials_column(radon_df):
    df = radon_df.assign(n=3.0, k=np.minimum(radon_df["floor"] + 1, 3.0))
    d = from_formula("k ~ floor + log_uranium + (1 | county)", df, trials="n")
    np.testing.assert_array_equal(d.trials, 3.0)


def test_cli_data_and_twin_take_the_formula(radon_df, capsys):
    assert main(["data", "--formula", "above_action_level ~ floor + (1 | county)"]) == 0
    out = capsys.readouterr().out
    assert "outcome        above_action_level" in out and "X (individual) floor" in out


@pytest.mark.pymc
def test_formula_builds_the_same_twin(radon_df):
    from reference_models.reference import twin_from_formula
    from reference_models.twins import build_twin

    twin = twin_from_formula(FORMULA, radon_df)
    arrays = HierarchicalData.from_dataframe(
        radon_df, y="log_radon", group="county", x=["floor"], u=["log_uranium"]
    )
    reference = build_twin(arrays)
    point = reference.initial_point()
    assert twin.compile_logp()(point) == reference.compile_logp()(point)


@pytest.mark.pymc
def test_formula_builds_the_twin_of_slopes_and_of_several_factors(radon_df):
    from reference_models.factors_twin import build_factors_twin
    from reference_models.reference import twin_from_formula
    from reference_models.slopes_twin import build_slopes_twin

    slopes = twin_from_formula("log_radon ~ floor + (1 + floor | county)", radon_df)
    m3 = HierarchicalData.from_dataframe(radon_df, y="log_radon", group="county", x=["floor"])
    reference = build_slopes_twin(m3, ["floor"])
    point = reference.initial_point()
    assert slopes.compile_logp()(point) == reference.compile_logp()(point)
    # Two factors: floor level crossed with county (a synthetic second factor on real data).
    df = radon_df.assign(band=np.where(radon_df["log_uranium"] > 0, "high", "low"))
    df["band"] = df["band"] + np.where(np.arange(len(df)) % 2 == 0, "-a", "-b")
    crossed = twin_from_formula("log_radon ~ floor + (1 | county) + (1 | band)", df)
    m1 = HierarchicalData.from_dataframe(df, y="log_radon", group="county", x=["floor"])
    reference = build_factors_twin(m1, {"band": df["band"].to_numpy()})
    point = reference.initial_point()
    assert crossed.compile_logp()(point) == reference.compile_logp()(point)
    assert "band_effect" in crossed.named_vars and "gamma_slope" in slopes.named_vars
