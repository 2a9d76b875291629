"""Deliberately broken samplers of the model with further grouping factors (gibbs.factors).

Each mutant replaces one block of a correct sweep with a plausible slip; the harness must catch
each of them.
"""

from __future__ import annotations

import numpy as np

from gibbs.factors import FACTORS_SCHEMES
from gibbs.kernels import factors as k
from gibbs.kernels.scales import draw_centered_scale
from validation.mutant_types import SweepMutant

__all__ = ["FACTORS_MUTANTS"]


def factor_scale_over_rows(streams, state, model):
    """Draw each sigma_f from its effects summed over the n rows, not over its J_f levels."""
    sigma_f, aux_f = state.sigma_f.copy(), state.aux_f.copy()
    for i, f in enumerate(model.factors):
        b = model.factor_effects(state.effects, i)[:, f.codes]
        sigma_f[:, i], aux_f[:, i] = draw_centered_scale(
            streams,
            model.priors.factor_scale(f.name),
            np.sum(b * b, axis=1),
            model.data.n,
            state.aux_f[:, i],
        )
    return state._replace(sigma_f=sigma_f, aux_f=aux_f)


def small_ignoring_group_variance(streams, state, model):
    """Draw (beta, gamma, effects) as if every eta_j were 0: its variance left out of V_j."""
    zero = state._replace(sigma_alpha=np.full_like(state.sigma_alpha, 1e-8))
    return k.update_small(streams, zero, model)._replace(sigma_alpha=state.sigma_alpha)


def eta_without_prior_precision(streams, state, model):
    """Draw eta_j with precision n_j / sigma_y^2 only: sigma_alpha's shrinkage left out."""
    s2 = state.sigma_y[:, None] ** 2
    D = np.maximum(model.n_j, 1.0) / s2
    resid = k._group_residual_sums(state, model)
    eta = resid / (s2 * D) + streams.normal(model.data.n_groups) / np.sqrt(D)
    return state._replace(eta=eta, alpha=model.group_intercepts(state.gamma, state.effects, eta))


def _mutant(name: str, scheme: str, replaces, block) -> SweepMutant:
    return SweepMutant(name, FACTORS_SCHEMES, scheme, replaces, block)


FACTORS_MUTANTS = {
    m.name: m
    for m in [
        _mutant(
            "factor_scale_over_rows", "collapsed", k.update_factor_scales, factor_scale_over_rows
        ),
        _mutant(
            "small_ignoring_group_variance",
            "collapsed",
            k.update_small,
            small_ignoring_group_variance,
        ),
        _mutant(
            "eta_without_prior_precision", "collapsed", k.update_eta, eta_without_prior_precision
        ),
    ]
}
