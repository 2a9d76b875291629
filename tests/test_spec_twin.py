"""The general twin is the same model as the general kernel: equal log densities, every row of
the configuration registry; a changed prior is detected (negative control)."""

import dataclasses

import numpy as np
import pytest

from gibbs.priors import HalfNormal, Normal
from gibbs.structures.mixed import MixedState, full_predictor, log_joint_mixed
from tests.configurations import GENERAL_CONFIGS

pytestmark = pytest.mark.pymc


def _random_state(rng, model):
    K, J = model.K, model.data.n_groups
    L = np.tril(rng.normal(0, 0.3, (K, K)), -1) + np.diag(np.exp(rng.normal(-0.7, 0.3, K)))
    F = len(model.factors)
    state = MixedState(
        small=rng.normal(0, 0.4, model.n_small)[None],
        dev=rng.normal(0, 0.4, (J, K))[None],
        Sigma=(L @ L.T)[None],
        aux_Sigma=np.ones((1, K)) if K > 1 else np.ones(1),
        sigma_f=np.exp(rng.normal(-0.5, 0.3, F))[None],
        aux_f=np.ones((1, F)),
        sigma_y=np.exp(rng.normal(-0.3, 0.2, 1)),
        aux_y=np.ones(1),
    )
    # A family that keeps latent variables (the Poisson's log rates) gets them from its prior.
    latent = model.family.draw_latent(rng, full_predictor(state, model), state.sigma_y)
    return state._replace(latent=latent)


def _twin_values(twin, model, state):
    """The twin's (centered) value variables at a Gibbs state, and the Jacobian to remove."""
    K, small = model.K, state.small[0]
    alpha = model.group_coefficients(state.small, state.dev)[0]
    gamma = model.gamma_matrix(state.small)[0]
    values = {"gamma": gamma[:, 0], "alpha": alpha if K > 1 else alpha[:, 0]}
    if model.p:
        values["beta"] = model.beta(small)
    jac = 0.0
    if K > 1:
        L = np.linalg.cholesky(state.Sigma[0])
        rows, cols = np.tril_indices(K, -1)
        values["gamma_slope"] = gamma[model.intercept_row, 1:]
        values["Sigma_chol_log_diag"] = np.log(np.diag(L))
        values["Sigma_chol_offdiag"] = L[rows, cols]
        jac = K * np.log(2.0) + np.sum(np.log(np.diag(L)) * (K + 1.0 - np.arange(K)))
    else:
        values["sigma_alpha_log__"] = 0.5 * np.log(state.Sigma[0, 0, 0])
    for k, f in enumerate(model.factors):
        values[f"{f.name}_effect"] = model.factor_effects(small, k)
        values[f"sigma_{f.name}_log__"] = np.log(state.sigma_f[0, k])
    names = {v.name for v in twin.value_vars}
    for name in model.family.dispersion:
        values[f"{name}_log__"] = np.log(state.sigma_y[0])
    if "epsilon" in names:
        values["epsilon"] = state.latent[0] - full_predictor(state, model)[0]
    assert set(values) == names, set(values) ^ names
    return values, jac


def _log_densities(spec, twin, values_of, seed):
    """Four random Gibbs states, the twin's log density at each (Jacobian removed), and the
    Gibbs log joint."""
    logp = twin.compile_logp(jacobian=False)
    rng = np.random.default_rng(seed)
    states = [_random_state(rng, spec.model) for _ in range(4)]
    twin_lp, gibbs_lp = [], []
    for state in states:
        values, jac = values_of(twin, spec.model, state)
        twin_lp.append(logp(values) - jac)
        gibbs_lp.append(float(log_joint_mixed(state, spec.model)[0]))
    return states, twin_lp, gibbs_lp


@pytest.mark.parametrize("name", sorted(GENERAL_CONFIGS))
def test_twin_log_density_equals_gibbs_log_joint(name):
    from reference_models.spec_twin import build_spec_twin

    spec = GENERAL_CONFIGS[name]()
    states, twin_lp, gibbs_lp = _log_densities(
        spec, build_spec_twin(spec, "centered"), _twin_values, seed=0
    )
    # Equal up to one constant (improper priors, dropped normalizing constants), to the rounding
    # of the twin's log(1 - p) near p = 1 (relative to the size of the log density).
    scale = 1e-8 * np.max(np.abs(gibbs_lp))
    np.testing.assert_allclose(np.diff(twin_lp), np.diff(gibbs_lp), rtol=0, atol=scale)
    # Negative control: another prior on beta (or on the mean slopes) changes the differences.
    other_priors = dataclasses.replace(spec.priors, gamma=Normal(1.0, 0.5))
    if spec.factors:
        other_priors = dataclasses.replace(
            other_priors, factor_scales={spec.factors[0].name: HalfNormal(0.3)}
        )
    other = spec.replace(priors=other_priors)
    other_lp = [float(log_joint_mixed(s, other.model)[0]) for s in states]
    assert np.max(np.abs(np.diff(other_lp) - np.diff(twin_lp))) > 1e-3


def _split_values(twin, model, state):
    """The mean-split twin's value variables at a Gibbs state, and the Jacobian to remove.

    b = Q [sd z; w] has Jacobian sd per crossed factor (Q orthonormal); the shifted intercept
    is a translation.
    """
    values, jac = _twin_values_centered_split(model, state)
    names = {v.name for v in twin.value_vars}
    assert set(values) == names, set(values) ^ names
    return values, jac


def _twin_values_centered_split(model, state):
    small = state.small[0]
    gamma = model.gamma_matrix(state.small)[0][:, 0].copy()
    gamma_before = gamma.copy()
    values = {"alpha": model.group_coefficients(state.small, state.dev)[0][:, 0]}
    values["sigma_alpha_log__"] = 0.5 * np.log(state.Sigma[0, 0, 0])
    if model.p:
        values["beta"] = model.beta(small)
    jac = 0.0
    for k, f in enumerate(model.factors):
        b = model.factor_effects(small, k)
        sd = state.sigma_f[0, k]
        values[f"sigma_{f.name}_log__"] = np.log(sd)
        if f.nested:
            values[f"{f.name}_effect"] = b
            continue
        L = len(f.levels)
        q, _ = np.linalg.qr(np.column_stack([np.ones(L), np.eye(L)[:, : L - 1]]))
        rotated = (q * np.sign(q[0, 0])).T @ b
        values[f"{f.name}_mean_z"] = rotated[0] / sd
        values[f"{f.name}_contrast"] = rotated[1:]
        gamma[model.intercept_row] += b.mean()
        jac += np.log(sd)
    values["gamma_shifted"] = gamma
    values["alpha_shifted"] = values.pop("alpha") + (gamma - gamma_before)[model.intercept_row]
    for name in model.family.dispersion:
        values[f"{name}_log__"] = np.log(state.sigma_y[0])
    if model.family.name == "poisson":
        values["epsilon"] = state.latent[0] - full_predictor(state, model)[0]
    return values, jac


SPLIT_CONFIGS = [
    "crossed-factors-offset-poisson",
    "intercepts-offset-gaussian",
    "intercepts-offset-negative_binomial",
    "nested-factors-logistic",
]


@pytest.mark.parametrize("name", SPLIT_CONFIGS)
def test_mean_split_twin_is_the_same_posterior(name):
    """The mean-split twin (goldens of crossed factors with few levels) has the Gibbs log joint
    up to one constant; another prior on the intercept changes it (negative control)."""
    from reference_models.spec_twin import build_spec_twin

    spec = GENERAL_CONFIGS[name]()
    states, twin_lp, gibbs_lp = _log_densities(
        spec, build_spec_twin(spec, "mean-split"), _split_values, seed=1
    )
    scale = 1e-8 * np.max(np.abs(gibbs_lp))
    np.testing.assert_allclose(np.diff(twin_lp), np.diff(gibbs_lp), rtol=0, atol=scale)
    other = spec.replace(priors=dataclasses.replace(spec.priors, gamma=Normal(1.0, 0.5)))
    other_lp = [float(log_joint_mixed(s, other.model)[0]) for s in states]
    assert np.max(np.abs(np.diff(other_lp) - np.diff(twin_lp))) > 1e-3


def test_mean_split_refuses_varying_slopes():
    from reference_models.spec_twin import build_spec_twin

    with pytest.raises(ValueError, match="varying intercepts only"):
        build_spec_twin(GENERAL_CONFIGS["slopes-poisson"](), "mean-split")
