"""gibbs.predict against PyMC's sample_posterior_predictive on the same posterior draws.

For each configuration a small PyMC model states the prediction: the fitted parameters as free
variables (their values come from the Gibbs trace), a new group's coefficients drawn from the
group-level distribution, the outcome from the family. ``pm.sample_posterior_predictive`` then
draws what ``gibbs.predict`` draws; the two sets are compared as posteriors (mean, sd and the
5% / 95% quantiles of every row, in Monte Carlo standard errors, Holm at 1%). Both draw at the
same posterior draws, so the MCSEs, which treat them as independent, are conservative. The
negative control states the prediction with the group-level sd doubled: it must disagree.
"""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import gibbs
from gibbs.datasets import load_radon_frame
from validation.compare import compare_posteriors

pytestmark = [pytest.mark.pymc, pytest.mark.filterwarnings("ignore::UserWarning")]


def _pymc_predictions(idata, build, names, seed):
    import pymc as pm

    with build() as model:
        pass
    pp = pm.sample_posterior_predictive(
        idata, model=model, var_names=names, random_seed=seed, progressbar=False
    )
    return pp.posterior_predictive


def _as_posterior(ds, rename=None):
    ds = ds.rename(rename or {})
    return xr.Dataset({k: ds[k].rename({ds[k].dims[-1]: "obs_id"}) for k in ds.data_vars})


@pytest.fixture(scope="module")
def radon_fit():
    houses, counties = load_radon_frame()
    frame = houses.join(counties, on="county").assign(county=lambda d: d["county"].astype(str))
    formula = "log_radon ~ floor + log_uranium + (1 | county)"
    idata = gibbs.sample(formula, data=frame, seed=1, progressbar=False, log_likelihood=False)
    # Two fitted counties (one row each floor) and two new ones, at other uranium levels.
    new = pd.DataFrame(
        {
            "county": ["HENNEPIN", "HENNEPIN", "NEW-A", "NEW-B"],
            "floor": [0.0, 1.0, 0.0, 1.0],
            "log_uranium": [float(counties.loc["HENNEPIN", "log_uranium"]), 0.0, -0.8, 0.6],
        }
    )
    new.loc[1, "log_uranium"] = new.loc[0, "log_uranium"]
    return idata, new


def _radon_model(idata, new, sigma_factor=1.0):
    import pymc as pm

    post = idata.posterior
    coords = {k: post.coords[k].values for k in ("county", "u_coef", "x_coef")}
    fitted = new["county"].isin(coords["county"]).to_numpy()
    idx = np.searchsorted(coords["county"], new["county"][fitted])
    U_new = np.column_stack([np.ones((~fitted).sum()), new["log_uranium"][~fitted]])

    def build():
        m = pm.Model(coords={**coords, "new_group": new["county"][~fitted].to_numpy()})
        with m:
            alpha = pm.Flat("alpha", dims="county")
            beta = pm.Flat("beta", dims="x_coef")
            gamma = pm.Flat("gamma", dims="u_coef")
            sigma_y = pm.HalfFlat("sigma_y")
            sigma_alpha = pm.HalfFlat("sigma_alpha")
            a_new = pm.Normal(
                "alpha_new", U_new @ gamma, sigma_factor * sigma_alpha, dims="new_group"
            )
            a_rows = pm.math.concatenate([alpha[idx], a_new])
            eta = pm.Deterministic("eta_rows", a_rows + beta[0] * new["floor"].to_numpy())
            pm.Normal("y_rows", eta, sigma_y, observed=np.zeros(len(new)))
        return m

    return build


@pytest.mark.parametrize("sigma_factor, verdict", [(1.0, "agree"), (2.0, "disagree")])
def test_radon_predictions_in_fitted_and_new_counties_match_pymc(radon_fit, sigma_factor, verdict):
    idata, new = radon_fit
    ours = gibbs.predict(idata, new, random_seed=2).predictions
    assert list(ours.data_vars) == ["eta", "log_radon"]
    theirs = _pymc_predictions(
        idata, _radon_model(idata, new, sigma_factor), ["alpha_new", "eta_rows", "y_rows"], 3
    )
    a = _as_posterior(ours[["eta", "log_radon"]])
    b = _as_posterior(theirs[["eta_rows", "y_rows"]], {"eta_rows": "eta", "y_rows": "log_radon"})
    c = compare_posteriors(a, b, labels=("gibbs.predict", "pymc"))
    assert c.verdict == verdict, str(c)
    if verdict == "disagree":
        # Only the new counties feel the group-level sd.
        assert all("[2]" in p or "[3]" in p for p in c.failing().index)


def test_fitted_groups_keep_their_draws_and_new_groups_can_be_refused(radon_fit):
    idata, new = radon_fit
    p = gibbs.predict(idata, new.iloc[:2], kind="linear", random_seed=1).predictions
    assert list(p.data_vars) == ["eta"]
    expected = idata.posterior["alpha"].sel(county="HENNEPIN") + idata.posterior["beta"].isel(
        x_coef=0
    ) * xr.DataArray(new["floor"].iloc[:2].to_numpy(), dims="obs_id")
    np.testing.assert_allclose(p["eta"].values, expected.transpose(..., "obs_id").values)
    with pytest.raises(ValueError, match=r"2 group level\(s\) not in the fit \(NEW-A, NEW-B\)"):
        gibbs.predict(idata, new, sample_new_groups=False)
    with pytest.raises(ValueError, match="lack the predictor 'floor'"):
        gibbs.predict(idata, new.drop(columns="floor"))
    with pytest.raises(ValueError, match="kind must be one of"):
        gibbs.predict(idata, new, kind="mean")
    # Same seed, same draws.
    again = gibbs.predict(idata, new, random_seed=5).predictions["log_radon"]
    np.testing.assert_array_equal(
        again.values, gibbs.predict(idata, new, random_seed=5).predictions["log_radon"].values
    )


@pytest.fixture(scope="module")
def police_fit():
    from gibbs.police_stops import POLICE_STOPS_FORMULA, load_police_stops

    stops = load_police_stops(quiet=True)
    return gibbs.sample(
        POLICE_STOPS_FORMULA,
        data=stops.frame,
        family="poisson",
        seed=1,
        progressbar=False,
        log_likelihood=False,
    )


@pytest.mark.slow  # make test keeps the radon checks; these two structures run in test-all
@pytest.mark.parametrize("row_term, verdict", [(True, "agree"), (False, "disagree")])
def test_poisson_predictions_for_a_new_precinct_match_pymc(police_fit, row_term, verdict):
    """The negative control leaves out the row-level term epsilon of the prediction."""
    import pymc as pm

    idata = police_fit
    new = pd.DataFrame(
        {
            "eth": ["black", "white", "hispanic", "white"],
            "precinct": ["07", "07", "new", "new"],
            # Exposures large enough for counts in the hundreds: the comparison's quantile
            # MCSEs are undefined for a count whose 5% quantile is a point mass (zero stops).
            "log_arrests": [6.0, 5.5, 6.0, 6.5],
        }
    )
    ours = gibbs.predict(idata, new, random_seed=4).predictions
    post = idata.posterior
    eth_idx = np.searchsorted(post.coords["eth"].values, new["eth"])

    def build():
        m = pm.Model(coords={k: post.coords[k].values for k in ("precinct", "eth", "u_coef")})
        with m:
            alpha = pm.Flat("alpha", dims="precinct")
            gamma = pm.Flat("gamma", dims="u_coef")
            eth = pm.Flat("eth_effect", dims="eth")
            pm.HalfFlat("sigma_eth")
            sigma_alpha = pm.HalfFlat("sigma_alpha")
            sigma_eps = pm.HalfFlat("sigma_epsilon")
            a_new = pm.Normal("alpha_new", gamma[0], sigma_alpha)
            a_rows = pm.math.stack([alpha[6], alpha[6], a_new, a_new])
            eta = pm.Deterministic(
                "eta_rows", new["log_arrests"].to_numpy() + a_rows + eth[eth_idx]
            )
            eps = pm.Normal("eps", 0.0, sigma_eps, shape=4) if row_term else 0.0
            pm.Poisson("y_rows", pm.math.exp(eta + eps), observed=np.zeros(4))
        return m

    names = ["alpha_new", "eta_rows", "y_rows"] + ["eps"] * row_term
    theirs = _pymc_predictions(idata, build, names, 5)
    assert post.coords["precinct"].values[6] == "07"
    a = _as_posterior(ours[["eta", "stops"]])
    b = _as_posterior(theirs[["eta_rows", "y_rows"]], {"eta_rows": "eta", "y_rows": "stops"})
    c = compare_posteriors(a, b, labels=("gibbs.predict", "pymc"))
    assert c.verdict == verdict, f"{c} {c.reasons}"


@pytest.fixture(scope="module")
def slopes_fit():
    houses, counties = load_radon_frame()
    frame = houses.join(counties, on="county").assign(county=lambda d: d["county"].astype(str))
    formula = "log_radon ~ floor + log_uranium + (1 + floor | county)"
    return gibbs.sample(formula, data=frame, seed=2, progressbar=False, log_likelihood=False)


@pytest.mark.slow
@pytest.mark.parametrize("swapped, verdict", [(False, "agree"), (True, "disagree")])
def test_varying_slopes_predictions_for_a_new_county_match_pymc(slopes_fit, swapped, verdict):
    """A new county's (intercept, slope) from N((U gamma, gamma_slope), Sigma); the negative
    control assembles Sigma with the two standard deviations swapped (a slip in effect order;
    radon's correlation is near 0, so a flipped sign of it would not show)."""
    import pymc as pm
    import pytensor.tensor as pt

    idata = slopes_fit
    post = idata.posterior
    new = pd.DataFrame(
        {
            "county": ["NEW", "NEW", "NEW", "HENNEPIN"],
            "floor": [0.0, 1.0, 1.0, 1.0],
            "log_uranium": [0.4, 0.4, 0.4, 0.0],
        }
    )
    ours = gibbs.predict(idata, new, random_seed=6).predictions
    floor = new["floor"].to_numpy()
    hennepin = list(post.coords["county"].values).index("HENNEPIN")

    def build():
        m = pm.Model(
            coords={k: post.coords[k].values for k in post.coords if k not in ("chain", "draw")}
        )
        with m:
            alpha = pm.Flat("alpha", dims=("county", "effect"))
            gamma = pm.Flat("gamma", dims="u_coef")
            gamma_slope = pm.Flat("gamma_slope", dims="slope")
            sigma_y = pm.HalfFlat("sigma_y")
            s = pm.HalfFlat("sigma_alpha", dims="effect")
            rho = pm.Flat("rho_alpha", dims="effect_pair")
            if swapped:
                s = s[::-1]
            c = rho[0] * s[0] * s[1]
            cov = pt.stack([pt.stack([s[0] ** 2, c]), pt.stack([c, s[1] ** 2])])
            mean = pt.stack([gamma[0] + 0.4 * gamma[1], gamma_slope[0]])
            a_new = pm.MvNormal("alpha_new", mean, cov)
            a = pt.stack([a_new, a_new, a_new, alpha[hennepin]])
            eta = pm.Deterministic("eta_rows", a[:, 0] + a[:, 1] * floor)
            pm.Normal("y_rows", eta, sigma_y, observed=np.zeros(4))
        return m

    theirs = _pymc_predictions(idata, build, ["alpha_new", "eta_rows", "y_rows"], 7)
    a = _as_posterior(ours[["eta", "log_radon"]])
    b = _as_posterior(theirs[["eta_rows", "y_rows"]], {"eta_rows": "eta", "y_rows": "log_radon"})
    c = compare_posteriors(a, b, labels=("gibbs.predict", "pymc"))
    assert c.verdict == verdict, f"{c} {c.reasons}"
