import numpy as np
import pytest

from gibbs import datasets
from gibbs.datasets import load_radon, load_radon_all, simulate_hierarchical


def test_load_radon_counts():
    d = load_radon()
    assert (d.n, d.n_groups, d.p, d.q) == (919, 85, 1, 2)
    assert d.x_names == ("floor",) and d.u_names == ("intercept", "log_uranium")
    assert d.group_names[:2] == ("AITKIN", "ANOKA")
    assert set(np.unique(d.X)) == {0.0, 1.0}
    m0 = load_radon(uranium=False, floor=False)
    assert (m0.p, m0.q) == (0, 1)


def test_radon_all_counts_and_traps(radon_dir):
    survey = load_radon_all(radon_dir)
    h = survey.houses
    assert len(h) == 12777
    assert len(survey.counties) == 472
    assert h.floor.isna().sum() == 287  # floor == 9 means missing
    assert (h.activity == 0).sum() == 90
    # 204 houses in counties absent from cty.dat, 180 in counties whose Uppm is recorded as 0.
    assert h.log_uranium.isna().sum() == 204 + 180
    assert np.isfinite(h.log_uranium.dropna()).all()
    r5 = h[h.survey == "R5"]
    assert r5.state.value_counts().to_dict() == {"WI": 461, "MN": 269, "MI": 204}
    assert survey.states.loc["MN", "n_houses"] == 919 + 269


def test_minnesota_subset_equals_arviz_copy(radon_dir):
    survey = load_radon_all(radon_dir)
    mn = survey.houses[survey.houses.survey == "MN"]
    ref, ref_counties = datasets.load_radon_frame()
    assert len(mn) == 919
    # The JSON stores 15 significant digits, hence rtol at that level and not bit equality.
    np.testing.assert_allclose(mn.log_radon.to_numpy(), ref.log_radon.to_numpy(), rtol=1e-13)
    np.testing.assert_array_equal(mn.floor.to_numpy(), ref.floor.to_numpy())
    np.testing.assert_array_equal(mn.county.to_numpy(), ref.county.astype(str).to_numpy())
    u = mn.groupby("county", sort=False).log_uranium.first()
    np.testing.assert_allclose(u.to_numpy(), ref_counties.log_uranium.to_numpy(), rtol=1e-13)
    d = survey.to_hierarchical(["MN"])
    assert d.n_groups >= 85


def test_radon_all_missing_folder_says_where(tmp_path):
    with pytest.raises(FileNotFoundError, match="Put srrs2.dat and cty.dat in"):
        load_radon_all(tmp_path)


def test_radon_all_offline_error(monkeypatch, tmp_path):
    import pooch

    def offline(*args, **kwargs):
        raise ConnectionError("network unreachable")

    monkeypatch.delenv(datasets.RADON_DIR_ENV, raising=False)
    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(FileNotFoundError, match=f"set \\${datasets.RADON_DIR_ENV}"):
        load_radon_all()


def test_radon_all_env_variable(monkeypatch, radon_dir):
    monkeypatch.setenv(datasets.RADON_DIR_ENV, str(radon_dir))
    assert len(load_radon_all().houses) == 12777


def test_to_hierarchical_rejects_unknown_state(radon_dir):
    with pytest.raises(ValueError, match="unknown states"):
        load_radon_all(radon_dir).to_hierarchical(["XX"])


def test_simulate_truth_shapes_and_reproducible():
    sizes = np.array([0, 1, 1, 5, 20, 0, 3])
    d, t = simulate_hierarchical(7, sizes, beta=[1.0, -2.0], gamma=[0.5, 1.0, 2.0], seed=3)
    assert (d.n, d.n_groups, d.p, d.q) == (sizes.sum(), 7, 2, 3)
    assert t.alpha.shape == (7,) and t.beta.shape == (2,) and t.gamma.shape == (3,)
    np.testing.assert_array_equal(d.stats.n_j, sizes)
    d2, t2 = simulate_hierarchical(7, sizes, beta=[1.0, -2.0], gamma=[0.5, 1.0, 2.0], seed=3)
    np.testing.assert_array_equal(d.y, d2.y)
    np.testing.assert_array_equal(t.alpha, t2.alpha)
    d3, _ = simulate_hierarchical(7, sizes, beta=[1.0, -2.0], gamma=[0.5, 1.0, 2.0], seed=4)
    assert not np.array_equal(d.y, d3.y)


def test_simulate_sigma_alpha_zero_and_no_predictors():
    d, t = simulate_hierarchical(5, 4, beta=[], gamma=[2.0], sigma_alpha=0.0, seed=1)
    assert d.p == 0 and d.q == 1
    np.testing.assert_allclose(t.alpha, 2.0)


def test_simulate_rejects_bad_truth():
    with pytest.raises(ValueError, match="sigma_y"):
        simulate_hierarchical(sigma_y=0.0)
