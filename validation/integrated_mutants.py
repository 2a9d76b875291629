"""Deliberately broken versions of the ``integrated`` binomial scheme's slice steps.

Each is a slip of the kind that scheme invites: a slice step (a Markov kernel, not an exact
draw) placed straight after blocks that integrated alpha out, a non-centered move that forgets
the Jacobian of log sigma_alpha or moves gamma without alpha, and a conditional of alpha without
its group-level prior. The correct blocks are in :mod:`gibbs.kernels.binomial_integrated`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gibbs.kernels import FAMILY_SCHEMES
from gibbs.kernels.binomial import BinomialModel, BinomialState, update_alpha_binomial
from gibbs.kernels.binomial_integrated import (
    cell_loglik,
    cell_successes,
    eta_cells,
    update_alpha_integrated,
    update_gamma_noncentered,
    update_sigma_noncentered,
)
from gibbs.kernels.scales import slice_step_batched
from gibbs.kernels.tuning import current
from validation.mutant_types import Mutant

__all__ = ["integrated_mutants"]


def _sweep(family: str, replace: dict[Callable, Callable | None]) -> tuple[Callable, ...]:
    """Return the family's integrated sweep with blocks replaced (None: dropped)."""
    base = FAMILY_SCHEMES[family]["integrated"]
    return tuple(replace.get(b, b) for b in base if replace.get(b, b) is not None)


def sigma_noncentered_without_jacobian(
    streams, state: BinomialState, model: BinomialModel
) -> BinomialState:
    """Move log sigma_alpha non-centered, without the Jacobian term log sigma."""
    y = cell_successes(model)[:, None, :]
    m = model.cell_trials
    mean = np.matmul(state.gamma[:, None, :], model.data.U.T)[:, 0]
    dev = (state.alpha - mean)[:, model.cell_group]
    rest = eta_cells(state, model) - dev
    s0 = state.sigma_alpha
    prior = model.priors.sigma_alpha

    def logf(x):
        ratio = np.exp(x) / s0[:, None]
        ll = cell_loglik(model.family, rest[:, None] + ratio[..., None] * dev[:, None], y, m)
        return ll.sum(axis=-1) + prior.logpdf(np.exp(x))

    sigma = np.exp(slice_step_batched(streams, logf, np.log(s0), width=current().slice_width))
    alpha = mean + (state.alpha - mean) * (sigma / s0)[:, None]
    return state._replace(alpha=alpha, sigma_alpha=sigma)


def gamma_noncentered_alpha_left(
    streams, state: BinomialState, model: BinomialModel
) -> BinomialState:
    """Move gamma non-centered, but leave alpha where it was."""
    moved = update_gamma_noncentered(streams, state, model)
    return moved._replace(alpha=state.alpha)


def alpha_without_group_prior(streams, state: BinomialState, model: BinomialModel) -> BinomialState:
    """Slice alpha on the likelihood alone (sigma_alpha taken as infinite)."""
    flat = state._replace(sigma_alpha=np.full_like(state.sigma_alpha, 1e8))
    return update_alpha_integrated(streams, flat, model)._replace(sigma_alpha=state.sigma_alpha)


def integrated_mutants(family: str) -> list[Mutant]:
    """Return the integrated scheme's mutants for ``family`` (logistic or probit)."""
    return [
        Mutant(
            f"{family}_slice_after_collapse",
            "alpha's slice step straight after the collapsed blocks, without the exact draw of "
            "alpha given the latent variables (a kernel applied to an alpha of old parameters)",
            _sweep(family, {update_alpha_binomial: None}),
            family,
        ),
        Mutant(
            f"{family}_noncentered_no_jacobian",
            "non-centered slice step on log sigma_alpha without the Jacobian term log sigma",
            _sweep(family, {update_sigma_noncentered: sigma_noncentered_without_jacobian}),
            family,
        ),
        Mutant(
            f"{family}_gamma_moves_alone",
            "non-centered gamma move that leaves alpha where it was",
            _sweep(family, {update_gamma_noncentered: gamma_noncentered_alpha_left}),
            family,
        ),
        Mutant(
            f"{family}_alpha_without_prior",
            "alpha's exact conditional without its group-level prior N(U gamma, sigma_alpha^2)",
            _sweep(family, {update_alpha_integrated: alpha_without_group_prior}),
            family,
        ),
    ]
