"""Further grouping factors (nested or crossed): closed forms, Geweke, SBC, the driver, and
a broken sampler for every check."""

import numpy as np
import pytest
from scipy import stats

import gibbs
from gibbs.datasets import simulate_factors
from gibbs.factors import FACTORS_SCHEMES, make_factors
from gibbs.kernels.factors import (
    FactorsModel,
    FactorsState,
    update_factor_scales,
    update_locations,
)
from gibbs.priors import HalfCauchy, InverseGamma, Normal, Priors, UniformLogSigma
from gibbs.streams import ChainStreams, chain_seed_sequences
from validation.factors_calibration import geweke_factors, sbc_factors
from validation.factors_mutants import FACTORS_MUTANTS

from .calibration import LEVEL
from .stat_checks import gaussian_draws_match
from .tiers import tiered

N_DRAWS = 20_000
SIGMA_Y, SIGMA_ALPHA, SIGMA_H = 0.9, 0.6, 0.7
CALIBRATION = Priors(
    beta=Normal(0, 1),
    gamma=Normal(0, 1),
    sigma_y=InverseGamma(3, 2),
    sigma_alpha=InverseGamma(3, 1),
    factor_scales={"h": InverseGamma(3, 1)},
)
SIZES = np.array([1, 2, 3, 2, 4, 1, 3, 2])


def _design(nested):
    data, factors, _ = simulate_factors(8, SIZES, levels=3, nested=nested, seed=3)
    return data, factors


def _streams(n, seed=0):
    return ChainStreams(chain_seed_sequences(seed, n)[1])


def _fixed_state(model, n):
    d, F = model.data, len(model.factors)
    E = model.n_small - d.p - d.q
    zeros = np.zeros((n, d.n_groups))
    return FactorsState(
        alpha=zeros,
        eta=zeros,
        beta=np.zeros((n, d.p)),
        gamma=np.zeros((n, d.q)),
        effects=np.zeros((n, E)),
        sigma_y=np.full(n, SIGMA_Y),
        sigma_alpha=np.full(n, SIGMA_ALPHA),
        sigma_f=np.full((n, F), SIGMA_H),
        aux_y=np.ones(n),
        aux_alpha=np.ones(n),
        aux_f=np.ones((n, F)),
    )


def _dense_locations(model, priors):
    """Mean and covariance of (beta, gamma, effects, eta) given the variances, from the dense
    n x (p + q + J_h + J) design written from the model equations."""
    d = model.data
    f = model.factors[0]
    H = np.zeros((d.n, len(f.levels)))
    H[np.arange(d.n), f.codes] = 1.0
    G = np.zeros((d.n, d.n_groups))
    G[np.arange(d.n), d.group] = 1.0
    W = np.column_stack([d.X, d.U[d.group], H, G])
    Pb, Pmb = priors.beta.precision(d.p)
    Pg, Pmg = priors.gamma.precision(d.q)
    prior = np.zeros((W.shape[1], W.shape[1]))
    prior[: d.p, : d.p], prior[d.p : d.p + d.q, d.p : d.p + d.q] = Pb, Pg
    k = d.p + d.q
    prior[np.arange(k, k + H.shape[1]), np.arange(k, k + H.shape[1])] = SIGMA_H**-2
    k += H.shape[1]
    prior[np.arange(k, W.shape[1]), np.arange(k, W.shape[1])] = SIGMA_ALPHA**-2
    Lam = W.T @ W / SIGMA_Y**2 + prior
    h = W.T @ d.y / SIGMA_Y**2
    h[: d.p] += Pmb
    h[d.p : d.p + d.q] += Pmg
    cov = np.linalg.inv(Lam)
    return cov @ h, cov


def _location_draws(model, block):
    new = block(_streams(N_DRAWS), _fixed_state(model, N_DRAWS), model)
    return np.column_stack([new.beta, new.gamma, new.effects, new.eta])


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "crossed"])
@pytest.mark.parametrize("priors", [Priors(), CALIBRATION], ids=["flat", "normal"])
def test_joint_location_draw_matches_dense_conditional(nested, priors):
    data, factors = _design(nested)
    model = FactorsModel(data, make_factors(data, factors), priors)
    assert model.factors[0].nested is nested
    ok, p = gaussian_draws_match(
        _location_draws(model, update_locations), *_dense_locations(model, priors), LEVEL
    )
    assert ok, p


@pytest.mark.parametrize("name", ["small_ignoring_group_variance", "eta_without_prior_precision"])
def test_broken_location_draws_fail_the_dense_check(name):
    data, factors = _design(True)
    model = FactorsModel(data, make_factors(data, factors), Priors())
    mutant = FACTORS_MUTANTS[name]
    sweep = [b for b in mutant.sweep if b.__name__ in (name, "update_small", "update_eta")]

    def block(streams, state, model):
        for b in sweep:
            state = b(streams, state, model)
        return state

    ok, _ = gaussian_draws_match(
        _location_draws(model, block), *_dense_locations(model, Priors()), LEVEL
    )
    assert not ok


def test_factor_scale_draw_matches_closed_form():
    """Uniform prior on sigma_h: sigma_h^2 | b ~ SS / chi^2_(J_h - 1)."""
    data, factors = _design(True)
    model = FactorsModel(data, make_factors(data, factors), Priors())
    state = _fixed_state(model, N_DRAWS)
    b = np.array([0.4, -0.9, 0.3])
    state = state._replace(effects=np.tile(b, (N_DRAWS, 1)))
    dist = stats.invgamma((3 - 1) / 2, scale=b @ b / 2)
    draws = update_factor_scales(_streams(N_DRAWS), state, model).sigma_f[:, 0]
    assert stats.kstest(draws**2, dist.cdf).pvalue > LEVEL
    wrong = FACTORS_MUTANTS["factor_scale_over_rows"].block(_streams(N_DRAWS), state, model)
    assert stats.kstest(wrong.sigma_f[:, 0] ** 2, dist.cdf).pvalue < LEVEL


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "crossed"])
@pytest.mark.parametrize("scheme", sorted(FACTORS_SCHEMES))
def test_every_levels_scheme_passes_geweke(scheme, nested):
    result = geweke_factors(
        *_design(nested), CALIBRATION, FACTORS_SCHEMES[scheme], seed=1, level=LEVEL
    )
    assert result.passed, f"{result}\n{result.table}"


@pytest.mark.parametrize("nested", tiered([True, False], {False}, ids=["nested", "crossed"]))
def test_default_levels_scheme_passes_sbc(nested):
    result = sbc_factors(*_design(nested), CALIBRATION, seed=1, level=LEVEL)
    assert result.passed, f"{result}\n{result.tests.sort_values('p_ecdf').head()}"


# Which battery catches which mutant, measured (seed 1, the nested design) and asserted: the
# rows-for-levels slip keeps sigma_h's scale and changes only its degrees of freedom, which
# Geweke's mean comparisons miss and SBC's ranks see. The unshrunk eta draw was Geweke's alone
# until SBC ranked the between-group spread (sd(group effects)), which it now fails at p ~ 1e-52.
CAUGHT_BY = {
    "factor_scale_over_rows": {"geweke": False, "sbc": True},
    "small_ignoring_group_variance": {"geweke": True, "sbc": True},
    "eta_without_prior_precision": {"geweke": True, "sbc": True},
}


@pytest.mark.parametrize("name", tiered(sorted(FACTORS_MUTANTS), {"small_ignoring_group_variance"}))
def test_every_levels_mutant_is_caught_by_geweke_or_sbc(name):
    sweep = FACTORS_MUTANTS[name].sweep
    design = _design(True)
    geweke = geweke_factors(*design, CALIBRATION, sweep, seed=1, level=LEVEL)
    sbc = sbc_factors(*design, CALIBRATION, sweep, seed=1, level=LEVEL)
    caught = {"geweke": not geweke.passed, "sbc": not sbc.passed}
    assert caught == CAUGHT_BY[name], (caught, geweke.table, sbc.tests)


def test_same_seed_gives_bit_identical_draws_and_chains_are_independent():
    data, factors = _design(True)
    kw = {"draws": 100, "tune": 50, "progressbar": False, "factors": factors}
    a = gibbs.sample(data, seed=4, chains=2, **kw)
    b = gibbs.sample(data, seed=4, chains=3, **kw)
    for name in ["alpha", "gamma", "h_effect", "sigma_h", "sigma_alpha"]:
        np.testing.assert_array_equal(a.posterior[name].values, b.posterior[name].values[:2])
    c = gibbs.sample(data, seed=5, chains=2, **kw)
    assert not np.array_equal(a.posterior["alpha"].values, c.posterior["alpha"].values)


def test_output_layout():
    data, factors = _design(False)
    idata = gibbs.sample(
        data,
        factors=factors,
        draws=50,
        tune=10,
        chains=2,
        progressbar=False,
        posterior_predictive=True,
    )
    post = idata.posterior
    assert post["h_effect"].dims == ("chain", "draw", "h")
    assert list(post["h"].values) == ["h0", "h1", "h2"]
    assert post["sigma_h"].dims == ("chain", "draw")
    assert post.attrs["factors"] == ["h"] and post.attrs["scheme"] == "collapsed"
    assert idata.log_likelihood["y"].shape == (2, 50, data.n)
    assert idata.posterior_predictive["y"].shape == (2, 50, data.n)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"factors": {"h": ["a"] * 5}}, "labels but the data have"),
        ({"factors": {"h": ["a"] * 18}}, "at least 2"),
        ({"factors": {"group": ["a", "b"] * 9}}, "differ from the group"),
        ({"factors": {"h": ["a", None] * 9}}, "missing label"),
        ({"factors": {"h": ["a", "b"] * 9}, "family": "logistic"}, "needs outcome"),
        ({"factors": {"h": ["a", "b"] * 9}, "slopes": ["nope"]}, "not columns of X"),
        (
            {
                "factors": {"h": ["a", "b"] * 9},
                "priors": Priors(factor_scales={"k": HalfCauchy(1)}),
            },
            "unknown factors",
        ),
        (
            {
                "factors": {"h": ["a", "b"] * 9},
                "priors": Priors(factor_scales={"h": UniformLogSigma()}),
            },
            "improper",
        ),
    ],
)
def test_bad_factors_are_refused_before_sampling(kwargs, message):
    data, _ = _design(True)
    with pytest.raises(ValueError, match=message):
        gibbs.sample(data, draws=5, tune=0, chains=1, progressbar=False, **kwargs)


def _frame(nested):
    import pandas as pd

    data, factors, _ = simulate_factors(12, 5, levels=3, nested=nested, seed=6)
    return pd.DataFrame(
        {
            "y": data.y,
            "x0": data.X[:, 0],
            "u1": data.U[data.group, 1],
            "group": np.asarray(data.group_names)[data.group],
            "h": factors["h"],
        }
    )


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "crossed"])
def test_formula_with_two_factors_gives_bit_identical_draws_to_arrays(nested):
    from gibbs.data import HierarchicalData
    from gibbs.formula import parse_formula

    df = _frame(nested)
    formula = "y ~ x0 + u1 + (1 | group) + (1 | h)"
    parsed = parse_formula(formula, df)
    assert parsed.data.group_dim == "group" and list(parsed.factors) == ["h"]
    assert parsed.data.u_names == ("intercept", "u1")
    kw = {"draws": 100, "tune": 50, "chains": 2, "seed": 3, "progressbar": False}
    by_formula = gibbs.sample(formula, data=df, **kw)
    hdata = HierarchicalData.from_dataframe(df, y="y", group="group", x=["x0"], u=["u1"])
    by_arrays = gibbs.sample(hdata, factors={"h": df["h"].to_numpy()}, **kw)
    for name in ["alpha", "gamma", "h_effect", "sigma_h"]:
        np.testing.assert_array_equal(
            by_formula.posterior[name].values, by_arrays.posterior[name].values
        )
    other = gibbs.sample(hdata, factors={"h": df["h"].to_numpy()}, **{**kw, "seed": 4})
    assert not np.array_equal(other.posterior["alpha"].values, by_arrays.posterior["alpha"].values)


def test_nested_formula_makes_the_finest_factor_the_group():
    from gibbs.formula import parse_formula

    parsed = parse_formula("y ~ x0 + u1 + (1 | h/group)", _frame(True))
    assert parsed.data.group_dim == "h:group" and list(parsed.factors) == ["h"]
    assert parsed.data.group_names[0].startswith("h")
    model = FactorsModel(parsed.data, make_factors(parsed.data, parsed.factors), Priors())
    assert model.factors[0].nested
