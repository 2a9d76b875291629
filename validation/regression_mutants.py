"""Deliberately broken blocks of the regression without a group term (:mod:`gibbs.regression`).

Each is a realistic slip in one full conditional; the batteries must tell every one from the
correct two-block sampler (tests/test_regression.py, tests/test_exact.py).
"""

from __future__ import annotations

import numpy as np

from gibbs.kernels.scales import draw_centered_scale
from gibbs.regression import SWEEP
from gibbs.structures.base import Block

__all__ = ["REGRESSION_MUTANTS", "mutant_sweep"]


def _wrong_dof_sigma(streams, state, model):
    """sigma_y's conditional with the marginal's degrees of freedom (n - k terms), not n."""
    resid = model.y[None] - state.theta @ model.D.T
    ss = np.einsum("ci,ci->c", resid, resid)
    m = model.D.shape[0] - model.D.shape[1]
    sigma, aux = draw_centered_scale(streams, model.sigma_prior, ss, m, state.aux)
    return state._replace(sigma_y=sigma, aux=aux)


def _theta_noise_without_sigma(streams, state, model):
    """Theta's conditional mean given sigma_y, but its noise as if sigma_y were 1."""
    v = state.sigma_y**-2.0
    Q = model.DtD[None] * v[:, None, None] + model.P[None]
    mean = np.linalg.solve(Q, (model.Dty[None] * v[:, None] + model.Pm[None])[..., None])[..., 0]
    L = np.linalg.cholesky(model.DtD + model.P)
    step = np.linalg.solve(L.T, streams.normal(model.D.shape[1]).T).T
    return state._replace(theta=mean + step)


# name -> (block replaced, broken update, what it shows on).
REGRESSION_MUTANTS = {
    "sigma_dof_of_the_marginal": (
        "sigma_y",
        _wrong_dof_sigma,
        "many coefficients (k/n of the scale)",
    ),
    "theta_noise_without_sigma": ("theta", _theta_noise_without_sigma, "any design"),
}


def mutant_sweep(name: str) -> tuple[Block, ...]:
    """Return the regression's sweep with mutant ``name``'s block in place of the correct one."""
    block, update, _ = REGRESSION_MUTANTS[name]
    return tuple(Block(b.name, update) if b.name == block else b for b in SWEEP)
