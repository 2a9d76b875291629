"""The PyMC twins are the same model: log densities equal up to a constant, for every prior."""

import numpy as np
import pytest

import gibbs
from gibbs.datasets import simulate_hierarchical
from gibbs.kernels.gaussian import GaussianModel, State, log_joint
from gibbs.priors import (
    HalfCauchy,
    HalfNormal,
    HalfStudentT,
    InverseGamma,
    Normal,
    Priors,
    UniformLogSigma,
    UniformSigma,
)
from reference_models.twins import build_twin, model_var_names

PRIOR_SETS = {
    "gelman_hill": Priors(),
    "normal_locations": Priors(beta=Normal(0.5, 2.0), gamma=Normal([0.0, 1.0], [5.0, 0.5])),
    "log_uniform_y": Priors(sigma_y=UniformLogSigma()),
    "inverse_gamma": Priors(sigma_y=InverseGamma(2.0, 1.0), sigma_alpha=InverseGamma(1.5, 0.3)),
    "half_t": Priors(sigma_y=HalfStudentT(4.0, 2.0), sigma_alpha=HalfStudentT(3.0, 0.5)),
    "half_cauchy": Priors(sigma_alpha=HalfCauchy(1.0)),
    "half_normal": Priors(sigma_y=HalfNormal(2.0), sigma_alpha=HalfNormal(0.7)),
}
# Negative controls: the twin's prior scale is changed.
CHANGED = {
    "normal_locations": Priors(beta=Normal(0.5, 3.0), gamma=Normal([0.0, 1.0], [5.0, 0.5])),
    "inverse_gamma": Priors(sigma_y=InverseGamma(2.0, 1.5), sigma_alpha=InverseGamma(1.5, 0.3)),
    "half_t": Priors(sigma_y=HalfStudentT(4.0, 2.0), sigma_alpha=HalfStudentT(3.0, 0.8)),
    "half_cauchy": Priors(sigma_alpha=HalfCauchy(2.0)),
    "half_normal": Priors(sigma_y=HalfNormal(2.0), sigma_alpha=HalfNormal(1.4)),
}


@pytest.fixture(scope="module")
def data():
    sizes = np.array([2, 5, 1, 7, 3, 4, 6, 0])
    d, _ = simulate_hierarchical(8, sizes, beta=[0.7], gamma=[1.0, -0.5], seed=5)
    return d


def _random_points(data, k=6, seed=0):
    rng = np.random.default_rng(seed)
    return State(
        alpha=rng.normal(1.0, 1.0, (k, data.n_groups)),
        beta=rng.normal(0.0, 1.0, (k, data.p)),
        gamma=rng.normal(0.0, 1.0, (k, data.q)),
        sigma_y=rng.uniform(0.3, 2.0, k),
        sigma_alpha=rng.uniform(0.1, 1.5, k),
        aux_y=np.ones(k),
        aux_alpha=np.ones(k),
    )


def _twin_logp(model, U, state, k, parameterization):
    """Twin log density (no Jacobians) at the Gibbs points, converted to the Gibbs variables."""
    logp = model.compile_logp(jacobian=False)
    out = np.empty(k)
    names = {v.name for v in model.value_vars}
    for i in range(k):
        sy, sa = state.sigma_y[i], state.sigma_alpha[i]
        values = {
            "gamma": state.gamma[i],
            "beta": state.beta[i],
            "sigma_y": sy,
            "sigma_alpha": sa,
            "sigma_y_sq": sy**2,
            "sigma_alpha_sq": sa**2,
            "alpha": state.alpha[i],
            "alpha_z": (state.alpha[i] - U @ state.gamma[i]) / sa,
        }
        point = {}
        for name in names:
            base = name[: -len("_log__")] if name.endswith("_log__") else name
            point[name] = np.log(values[base]) if name.endswith("_log__") else values[base]
        value = float(logp(point))
        # Densities on sigma^2 (inverse-gamma twins) become densities on sigma: + log(2 sigma).
        for nm, s in (("sigma_y", sy), ("sigma_alpha", sa)):
            if f"{nm}_sq_log__" in names:
                value += np.log(2 * s)
        # Non-centered: p(alpha) = p(z) / sigma_alpha^J.
        if parameterization == "noncentered":
            value -= len(state.alpha[i]) * np.log(sa)
        out[i] = value
    return out


@pytest.mark.parametrize("parameterization", ["centered", "noncentered"])
@pytest.mark.parametrize("name", sorted(PRIOR_SETS))
def test_twin_log_density_equals_gibbs_log_joint(data, name, parameterization):
    priors = PRIOR_SETS[name]
    state = _random_points(data)
    gibbs_lp = log_joint(state, GaussianModel(data, priors))
    twin_lp = _twin_logp(
        build_twin(data, priors, parameterization), data.U, state, 6, parameterization
    )
    diff = gibbs_lp - twin_lp
    # Equal up to a constant (normalising constants of improper priors): exact to rounding.
    np.testing.assert_allclose(diff - diff[0], 0.0, atol=1e-8 * np.abs(gibbs_lp).max())
    if name in CHANGED:
        wrong = _twin_logp(
            build_twin(data, CHANGED[name], parameterization), data.U, state, 6, parameterization
        )
        d2 = gibbs_lp - wrong
        assert np.ptp(d2) > 1e-3, "a twin with a changed prior scale passed"


def test_twin_names_match_gibbs(data):
    model = build_twin(data)
    assert {"alpha", "beta", "gamma", "sigma_y", "sigma_alpha", "y"} <= set(model.named_vars)
    assert model.named_vars_to_dims["alpha"] == (data.group_dim,)
    assert model_var_names(data) == ["alpha", "beta", "gamma", "sigma_y", "sigma_alpha"]


def test_twin_rejects_improper_priors(data):
    with pytest.raises(ValueError, match="UniformLogSigma"):
        build_twin(data, Priors(sigma_alpha=UniformLogSigma()))
    with pytest.raises(ValueError, match="parameterization"):
        build_twin(data, Priors(), "sideways")


def test_uniform_sigma_twin_is_half_flat(data):
    model = build_twin(data, Priors(sigma_y=UniformSigma()))
    assert type(model["sigma_y"].owner.op).__name__ == "HalfFlatRV"


def test_fresh_reference_parameterization_follows_the_data():
    # Groups of 1 to 20 rows with sigma_alpha well above sigma_y pin every intercept: the centred
    # twin. The same sizes with sigma_alpha far below sigma_y, and radon (single-house
    # counties), are dominated by the group-level prior: the non-centred one (negative controls).
    from gibbs.datasets import load_radon, simulate_hierarchical
    from reference_models.parameterization import choose_parameterization, shrinkage_weights

    sizes = np.array([3, 8, 1, 12, 5, 20, 2, 9])

    def spec(sigma_alpha):
        data, _ = simulate_hierarchical(
            8, sizes, beta=[0.8], gamma=[1.0, 0.5], sigma_y=0.5, sigma_alpha=sigma_alpha, seed=4
        )
        return gibbs.specify(data)

    assert choose_parameterization(spec(0.7), "noncentered") == "centered"
    assert choose_parameterization(spec(0.02), "noncentered") == "noncentered"
    assert choose_parameterization(gibbs.specify(load_radon()), "noncentered") == "noncentered"
    w = shrinkage_weights(spec(0.7), sigma_y=1.0, sigma_alpha=1.0)
    np.testing.assert_allclose(w, sizes / (sizes + 1.0))
