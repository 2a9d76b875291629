"""The model with further grouping factors against its PyMC twin: the same log density, and the
same posterior on all-states radon (house < county < state) and on crossed synthetic data
(stored long NUTS references)."""

import numpy as np
import pytest

import gibbs
from gibbs.datasets import simulate_factors
from gibbs.factors import make_factors
from gibbs.kernels.factors import FactorsModel, FactorsState, log_joint_factors
from gibbs.priors import HalfNormal, HalfStudentT, InverseGamma, Normal, Priors
from reference_models.factors_twin import build_factors_twin
from validation.build_goldens import GOLDENS, load_golden
from validation.compare import compare_posteriors
from validation.factors_mutants import FACTORS_MUTANTS

PRIORS = {
    "default": Priors(),
    "proper": Priors(
        beta=Normal(0.0, 2.0),
        gamma=Normal(0.5, 3.0),
        sigma_y=InverseGamma(3.0, 2.0),
        sigma_alpha=HalfStudentT(4.0, 1.0),
        factor_scales={"h": HalfNormal(0.5)},
    ),
}


def _point(rng, model):
    d = model.data
    E = model.n_small - d.p - d.q
    return {
        "beta": rng.normal(0, 1, d.p),
        "gamma": rng.normal(0, 1, d.q),
        "effects": rng.normal(0, 0.5, E),
        "eta": rng.normal(0, 0.5, d.n_groups),
        "sigma_y": np.exp(rng.normal(-0.2, 0.2)),
        "sigma_alpha": np.exp(rng.normal(-0.7, 0.2)),
        "sigma_h": np.exp(rng.normal(-0.5, 0.2)),
    }


def _twin_logp(twin, model, pt):
    alpha = model.group_intercepts(pt["gamma"], pt["effects"], pt["eta"])
    values = {"gamma": pt["gamma"], "beta": pt["beta"], "alpha": alpha, "h_effect": pt["effects"]}
    extra = 0.0
    for rv in twin.value_vars:
        for name in ("sigma_y", "sigma_alpha", "sigma_h"):
            if rv.name.startswith(name):
                s = pt[name]
                if rv.name.startswith(f"{name}_sq"):  # p(sigma^2) = p(sigma) / (2 sigma)
                    values[rv.name] = np.log(s * s)
                    extra += np.log(2 * s)
                else:
                    values[rv.name] = np.log(s)
    return twin.compile_logp(jacobian=False)(values) + extra


def _gibbs_logp(model, pt):
    one = lambda v: np.atleast_1d(v)[None]  # noqa: E731
    state = FactorsState(
        alpha=one(model.group_intercepts(pt["gamma"], pt["effects"], pt["eta"])),
        eta=one(pt["eta"]),
        beta=one(pt["beta"]),
        gamma=one(pt["gamma"]),
        effects=one(pt["effects"]),
        sigma_y=np.array([pt["sigma_y"]]),
        sigma_alpha=np.array([pt["sigma_alpha"]]),
        sigma_f=np.array([[pt["sigma_h"]]]),
        aux_y=np.ones(1),
        aux_alpha=np.ones(1),
        aux_f=np.ones((1, 1)),
    )
    return float(log_joint_factors(state, model)[0])


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "crossed"])
@pytest.mark.parametrize("name", sorted(PRIORS))
def test_twin_log_density_equals_gibbs_log_joint(nested, name):
    data, factors, _ = simulate_factors(8, 4, levels=3, nested=nested, seed=2)
    priors = PRIORS[name]
    model = FactorsModel(data, make_factors(data, factors), priors)
    twin = build_factors_twin(data, factors, priors, "centered")
    rng = np.random.default_rng(0)
    points = [_point(rng, model) for _ in range(4)]
    twin_lp = np.array([_twin_logp(twin, model, p) for p in points])
    gibbs_lp = np.array([_gibbs_logp(model, p) for p in points])
    np.testing.assert_allclose(np.diff(twin_lp), np.diff(gibbs_lp), rtol=1e-8, atol=1e-8)
    # Negative control: the same points under the other nesting give other differences.
    other = simulate_factors(8, 4, levels=3, nested=not nested, seed=2)[1]
    other_model = FactorsModel(data, make_factors(data, other), priors)
    other_lp = np.array([_gibbs_logp(other_model, p) for p in points])
    assert np.max(np.abs(np.diff(other_lp) - np.diff(twin_lp))) > 1e-3


@pytest.fixture(scope="module")
def all_states(radon_dir):
    return GOLDENS["radon_all_levels"].case(data_dir=radon_dir)


@pytest.fixture(scope="module")
def all_states_reference(all_states):
    # The centered twin: NUTS on the non-centered one mixes slowly between the intercept and
    # the 9 state effects (bulk ESS about 100 in 3000 draws), the centered one does not.
    return load_golden("radon_all_levels", all_states)


# All-states radon against NUTS (35 s) and its mutant in make test-all; factors keep the crossed
# NUTS comparison, Geweke and SBC in the default tier.
@pytest.mark.slow
def test_three_level_radon_agrees_with_nuts_twin(all_states, all_states_reference):
    case = all_states
    g = gibbs.sample(case.data, factors=case.factors, seed=1, draws=3000, progressbar=False)
    result = compare_posteriors(g, all_states_reference, case.var_names(), labels=("gibbs", "nuts"))
    assert result.verdict == "agree", f"{result}\n{result.failing()}"


@pytest.mark.slow
def test_three_level_mutant_is_caught_on_radon(all_states, all_states_reference):
    from gibbs.sampling import sample_sweep

    case = all_states
    broken = sample_sweep(
        case.data,
        FACTORS_MUTANTS["small_ignoring_group_variance"].sweep,
        "broken",
        draws=1000,
        seed=1,
        progressbar=False,
        log_likelihood=False,
        factors=case.factors,
    )
    result = compare_posteriors(broken, all_states_reference, case.var_names())
    assert result.verdict == "disagree", str(result)


def test_crossed_factors_agree_with_nuts_twin():
    case = GOLDENS["crossed_levels"].case()
    ref = load_golden("crossed_levels", case)
    g = gibbs.sample(case.data, factors=case.factors, seed=1, draws=3000, progressbar=False)
    result = compare_posteriors(g, ref, case.var_names(), labels=("gibbs", "nuts"))
    assert result.verdict == "agree", f"{result}\n{result.failing()}"
