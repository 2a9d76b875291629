"""The varying-slopes twin is the same model: its log density equals the Gibbs log joint."""

import numpy as np
import pytest

from gibbs.covariance import HuangWand, InverseWishart
from gibbs.datasets import simulate_slopes
from gibbs.kernels.slopes import SlopesModel, SlopesState, log_joint_slopes
from gibbs.priors import HalfStudentT, InverseGamma, Normal
from gibbs.slopes import SlopesPriors

pytestmark = pytest.mark.pymc

PRIORS = {
    "default": SlopesPriors(),
    "inverse_wishart": SlopesPriors(
        beta=Normal(0.2, 2.0),
        gamma=Normal(0.0, 3.0),
        sigma_y=InverseGamma(3.0, 2.0),
        Sigma=InverseWishart(5.0, (0.5, 2.0, 1.0)),
    ),
    "huang_wand": SlopesPriors(
        sigma_y=HalfStudentT(4.0, 1.0), Sigma=HuangWand(3.0, (1.0, 0.5, 2.0))
    ),
}


@pytest.fixture(scope="module")
def design():
    Sigma = np.diag([0.3, 0.2, 0.1])
    return simulate_slopes(
        12, 6, gamma=[1.0, 0.5], mean_slopes=[-0.5, 0.3], Sigma=Sigma, beta=[0.4], seed=2
    )[:2]


def _random_point(rng, model):
    d, K = model.data, model.K
    L = np.tril(rng.normal(0, 0.4, (K, K)), -1) + np.diag(np.exp(rng.normal(-1, 0.3, K)))
    free = rng.normal(0, 1, model.free_idx.size)
    return {
        "gamma_full": model.scatter_gamma(free[None])[0],
        "free": free,
        "beta": rng.normal(0, 1, model.p),
        "sigma_y": np.exp(rng.normal(-0.3, 0.2)),
        "L": L,
        "alpha": rng.normal(0, 1, (d.n_groups, K)),
    }


def _twin_logp(twin, model, point):
    K = model.K
    rows, cols = np.tril_indices(K, -1)
    values = {
        "gamma": point["gamma_full"][:, 0],
        "gamma_slope": point["gamma_full"][model.intercept_row, 1:],
        "Sigma_chol_log_diag": np.log(np.diag(point["L"])),
        "Sigma_chol_offdiag": point["L"][rows, cols],
        "alpha": point["alpha"],
    }
    if model.p:
        values["beta"] = point["beta"]
    for rv in twin.value_vars:
        if rv.name.startswith("sigma_y"):
            s = point["sigma_y"]
            values[rv.name] = np.log(s**2) if rv.name.startswith("sigma_y_sq") else np.log(s)
    logp = twin.compile_logp(jacobian=False)(values)
    diag = np.diag(point["L"])
    jac = K * np.log(2.0) + np.sum(np.log(diag) * (K + 1.0 - np.arange(K)))
    # The twin's variance variable for an inverse-gamma sigma_y is sigma^2: p(sigma^2) differs
    # from p(sigma) by the Jacobian 2 sigma.
    s = point["sigma_y"]
    extra = np.log(2 * s) if any(v.name.startswith("sigma_y_sq") for v in twin.value_vars) else 0.0
    return logp - jac + extra


def _gibbs_logp(model, point):
    K = model.K
    state = SlopesState(
        alpha=point["alpha"][None],
        beta=point["beta"][None],
        gamma=point["gamma_full"][None],
        sigma_y=np.array([point["sigma_y"]]),
        Sigma=(point["L"] @ point["L"].T)[None],
        aux_y=np.ones(1),
        aux_Sigma=np.ones((1, K)),
    )
    return float(log_joint_slopes(state, model)[0])


@pytest.mark.parametrize("name", sorted(PRIORS))
def test_twin_log_density_equals_gibbs_log_joint(design, name):
    from reference_models.slopes_twin import build_slopes_twin

    data, slopes = design
    priors = PRIORS[name]
    model = SlopesModel(data, slopes, priors)
    twin = build_slopes_twin(data, slopes, priors, "centered")
    rng = np.random.default_rng(0)
    points = [_random_point(rng, model) for _ in range(4)]
    twin_lp = np.array([_twin_logp(twin, model, pt) for pt in points])
    gibbs_lp = np.array([_gibbs_logp(model, pt) for pt in points])
    # Equal up to one constant (improper priors, dropped normalizing constants).
    np.testing.assert_allclose(np.diff(twin_lp), np.diff(gibbs_lp), rtol=1e-8, atol=1e-8)
    # Negative control: another prior on Sigma changes the differences.
    other = SlopesPriors(Sigma=InverseWishart(9.0, 3.0))
    other_lp = np.array([_gibbs_logp(SlopesModel(data, slopes, other), pt) for pt in points])
    assert np.max(np.abs(np.diff(other_lp) - np.diff(twin_lp))) > 1e-3
