"""Deliberately broken varying-slopes samplers: the harness must catch each of them.

Each mutant replaces one block of a correct sweep with a plausible slip in the full conditionals
of the varying-slopes model (:mod:`gibbs.kernels.slopes`).
"""

from __future__ import annotations

import numpy as np

from gibbs.kernels import slopes as k
from gibbs.slopes import SLOPES_SCHEMES
from validation.mutant_types import SweepMutant

__all__ = ["SLOPES_MUTANTS"]


def sigma_without_groups(streams, state, model):
    """Sigma drawn as if there were no groups' degrees of freedom: J left out of IW(nu + J, ...)."""
    r = state.alpha - k.group_means(state, model)
    S = np.einsum("cjk,cjm->ckm", r, r)
    Sigma, aux = model.priors.Sigma.draw_conditional(streams, S, 0, state.aux_Sigma)
    return state._replace(Sigma=Sigma, aux_Sigma=aux)


def sigma_diagonal_scatter(streams, state, model):
    """Sigma drawn from the diagonal of S only: the correlation of the group effects ignored."""
    r = state.alpha - k.group_means(state, model)
    S = np.einsum("cjk,cjm->ckm", r, r) * np.eye(model.K)
    Sigma, aux = model.priors.Sigma.draw_conditional(
        streams, S, model.data.n_groups, state.aux_Sigma
    )
    return state._replace(Sigma=Sigma, aux_Sigma=aux)


def alpha_covariance_not_inverted(streams, state, model):
    """Draw alpha_j with Sigma where Sigma^-1 belongs in its precision."""
    swapped = state._replace(Sigma=np.linalg.inv(state.Sigma))
    return k.update_alpha_slopes(streams, swapped, model)._replace(Sigma=state.Sigma)


def collapsed_without_jacobian(streams, state, model):
    """Slice-sample Sigma on Cholesky coordinates without the Jacobian of u -> Sigma."""
    return k.collapsed_sigma_step(streams, state, model, jacobian=False)


def _mutant(name: str, scheme: str, replaces, block) -> SweepMutant:
    return SweepMutant(name, SLOPES_SCHEMES, scheme, replaces, block)


SLOPES_MUTANTS = {
    m.name: m
    for m in [
        _mutant("sigma_without_groups", "blocked", k.update_sigma_slopes, sigma_without_groups),
        _mutant("sigma_diagonal_scatter", "blocked", k.update_sigma_slopes, sigma_diagonal_scatter),
        _mutant(
            "alpha_covariance_not_inverted",
            "collapsed",
            k.update_alpha_slopes,
            alpha_covariance_not_inverted,
        ),
        _mutant(
            "collapsed_without_jacobian",
            "collapsed",
            k.collapsed_sigma_slopes,
            collapsed_without_jacobian,
        ),
    ]
}
