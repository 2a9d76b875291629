import numpy as np
import pandas as pd
import pytest

from gibbs.data import HierarchicalData


def _frame(n_groups=4, per_group=5, seed=0):
    rng = np.random.default_rng(seed)
    g = np.repeat([f"c{j}" for j in range(n_groups)], per_group)
    u = np.repeat(rng.standard_normal(n_groups), per_group)
    return pd.DataFrame(
        {
            "y": rng.standard_normal(g.size),
            "x1": rng.standard_normal(g.size),
            "x2": rng.standard_normal(g.size),
            "g": g,
            "u": u,
        }
    )


def test_from_dataframe_builds_consistent_statistics():
    df = _frame()
    data = HierarchicalData.from_dataframe(df, y="y", group="g", x=["x1", "x2"], u=["u"])
    assert (data.n, data.n_groups, data.p, data.q) == (20, 4, 2, 2)
    assert data.u_names == ("intercept", "u")
    assert data.group_dim == "g"
    assert list(data.coords["g"]) == ["c0", "c1", "c2", "c3"]
    s = data.stats
    np.testing.assert_array_equal(s.n_j, [5, 5, 5, 5])
    np.testing.assert_allclose(s.sum_y, df.groupby("g")["y"].sum().to_numpy())
    np.testing.assert_allclose(s.sum_X, df.groupby("g")[["x1", "x2"]].sum().to_numpy())
    np.testing.assert_allclose(s.XtX, data.X.T @ data.X)
    np.testing.assert_allclose(s.yty, np.sum(df.y**2))
    with pytest.raises(ValueError):
        data.y[0] = 1.0  # read-only


def test_group_labels_of_any_kind_and_categorical_empty_groups():
    y = np.arange(6.0)
    for labels in (["b", "a", "b", "c", "a", "c"], [3, 1, 3, 7, 1, 7]):
        d = HierarchicalData.from_arrays(y, None, labels, None)
        assert d.n_groups == 3
        assert d.group_names == tuple(sorted(set(labels)))
    cat = pd.Categorical(["a", "a", "b", "b", "a", "b"], categories=["a", "b", "z"])
    d = HierarchicalData.from_arrays(y, None, cat, None)
    assert d.group_names == ("a", "b", "z")
    assert d.stats.n_j.tolist() == [3, 3, 0]
    assert d.n_observed_groups == 2


def test_groups_without_rows_come_from_group_data():
    df = _frame()
    gd = pd.DataFrame({"u": [0.1, 0.2, 0.3, 0.4, 0.5]}, index=["c0", "c1", "c2", "c3", "c9"])
    d = HierarchicalData.from_dataframe(df, y="y", group="g", x=["x1"], u=["u"], group_data=gd)
    assert d.n_groups == 5 and d.stats.n_j[-1] == 0
    np.testing.assert_allclose(d.U[:, 1], gd.u)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_name_column_and_count(bad):
    df = _frame()
    df.loc[[3, 7], "x2"] = bad
    with pytest.raises(ValueError, match=r"X column 'x2' has 2 row\(s\).*first at row 3"):
        HierarchicalData.from_dataframe(df, y="y", group="g", x=["x1", "x2"], u=["u"])
    df = _frame()
    df.loc[5, "y"] = bad
    with pytest.raises(ValueError, match=r"y column 'y' has 1 row"):
        HierarchicalData.from_dataframe(df, y="y", group="g", x=["x1"])


def test_non_finite_group_level_value():
    df = _frame()
    df["u"] = np.nan
    with pytest.raises(ValueError, match="'u'"):
        HierarchicalData.from_dataframe(df, y="y", group="g", u=["u"])


def test_length_mismatches():
    with pytest.raises(ValueError, match="X has 3 rows but y has 4"):
        HierarchicalData.from_arrays(np.zeros(4), np.ones((3, 1)), [0, 0, 1, 1])
    with pytest.raises(ValueError, match="groups has 3 entries but y has 4"):
        HierarchicalData.from_arrays(np.zeros(4), None, [0, 0, 1])
    with pytest.raises(ValueError, match="U has 3 rows but there are 2 groups"):
        HierarchicalData.from_arrays(np.zeros(4), None, [0, 0, 1, 1], np.ones((3, 1)))


def test_rank_deficient_X_names_collinear_columns():
    df = _frame()
    df["x3"] = 2 * df.x1 - df.x2
    with pytest.raises(ValueError, match="X is rank deficient.*'x1', 'x2', 'x3' are collinear"):
        HierarchicalData.from_dataframe(df, y="y", group="g", x=["x1", "x2", "x3"])


def test_rank_deficient_U_names_collinear_columns():
    df = _frame()
    df["u2"] = 3 * df.u
    with pytest.raises(ValueError, match="U is rank deficient.*'u', 'u2'"):
        HierarchicalData.from_dataframe(df, y="y", group="g", u=["u", "u2"])


def test_X_duplicating_intercept():
    df = _frame()
    df["one"] = 1.0
    with pytest.raises(ValueError, match="X duplicates the intercept: column 'one' is constant"):
        HierarchicalData.from_dataframe(df, y="y", group="g", x=["x1", "one"])
    df["a"] = (df.x1 > 0).astype(float)
    df["b"] = 1.0 - df.a
    with pytest.raises(ValueError, match="columns 'a', 'b' add up to a constant"):
        HierarchicalData.from_dataframe(df, y="y", group="g", x=["a", "b"])


def test_fewer_than_two_groups():
    with pytest.raises(ValueError, match="at least 2 groups, got 1"):
        HierarchicalData.from_arrays(np.zeros(4), None, ["a"] * 4)


def test_unknown_group_labels():
    with pytest.raises(ValueError, match=r"not among the 2 group levels.*'zz'"):
        HierarchicalData.from_arrays(
            np.zeros(4), None, ["a", "b", "zz", "a"], group_levels=["a", "b"]
        )
    with pytest.raises(ValueError, match="missing value"):
        HierarchicalData.from_arrays(np.zeros(3), None, ["a", None, "b"])


def test_group_codes_out_of_range():
    with pytest.raises(ValueError, match="outside 0..1"):
        HierarchicalData(y=np.zeros(3), X=None, group=np.array([0, 1, 2]), U=np.ones((2, 1)))


def test_group_level_column_not_constant_within_group():
    df = _frame()
    df.loc[6, "u"] += 1.0
    with pytest.raises(ValueError, match="'u' is not constant within group 'c1'"):
        HierarchicalData.from_dataframe(df, y="y", group="g", u=["u"])


def test_U_needs_intercept_first():
    with pytest.raises(ValueError, match="first column .* must be all ones"):
        HierarchicalData.from_arrays(
            np.zeros(4), None, [0, 0, 1, 1], np.array([[1.0], [2.0]]), add_intercept=False
        )


def test_missing_columns():
    with pytest.raises(ValueError, match=r"not in the DataFrame: \['nope'\]"):
        HierarchicalData.from_dataframe(_frame(), y="y", group="g", x=["nope"])


def test_replace_outcome_and_rows_keeps_the_design():
    df = _frame()
    d = HierarchicalData.from_dataframe(df, y="y", group="g", x=["x1"], u=["u"])
    new = d.replace(y=np.zeros(d.n))
    assert new.stats.sum_y.tolist() == [0.0] * 4 and np.array_equal(new.X, d.X)
    sub = d.replace(rows=d.group != 2)
    assert sub.n_groups == 4 and sub.stats.n_j.tolist() == [5, 5, 0, 5]
    with pytest.raises(ValueError, match="NaN"):
        d.replace(y=np.full(d.n, np.nan))
