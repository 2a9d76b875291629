"""Deliberately broken samplers of the logistic and probit models.

Each is a realistic slip in one block of the default (``collapsed``) sweep of its family: the
Polya-Gamma draw with the wrong tilt or shape, the wrong pseudo-response, the Albert-Chib
truncation on the wrong side or missing, the Gaussian model's group weights carried over
unchanged (for the logistic model; for 0/1 probit data they happen to be right), or a slice
step on log sigma_alpha without its Jacobian. The SBC and Geweke batteries and
``gibbs-suite compare --mutants`` must catch each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from polyagamma import random_polyagamma

from gibbs.kernels import FAMILY_SCHEMES
from gibbs.kernels.binomial import (
    BinomialModel,
    BinomialState,
    collapsed_residuals,
    latent_probit,
    linear_predictor,
    with_latent,
)
from gibbs.kernels.scales import (
    draw_collapsed_scale,
    slice_step_batched,
    truncated_normal_positive,
)
from validation.integrated_mutants import integrated_mutants
from validation.mutant_types import Mutant

__all__ = ["BINOMIAL_MUTANTS"]


def _pg_with(
    shape_factor: float = 1.0,
    tilt: bool = True,
    centred_response: bool = True,
    one_trial: bool = False,
):
    def block(streams, state: BinomialState, model: BinomialModel) -> BinomialState:
        eta = linear_predictor(state, model)
        omega = np.empty(eta.shape)
        z = eta if tilt else np.zeros_like(eta)
        shape = np.ones_like(model.trials) if one_trial else shape_factor * model.trials
        for c, gen in enumerate(streams.latent):
            random_polyagamma(shape, z[c], out=omega[c], random_state=gen)
        r = model.kappa if centred_response else model.Y
        return with_latent(state, model, omega, np.broadcast_to(r, eta.shape))

    return block


pg_without_tilt = _pg_with(tilt=False)
pg_double_shape = _pg_with(shape_factor=2.0)
pg_uncentred_response = _pg_with(centred_response=False)
pg_one_trial = _pg_with(one_trial=True)


def probit_flipped_truncation(streams, state: BinomialState, model: BinomialModel):
    """Utilities of successes truncated to (-inf, 0] and of failures to (0, inf)."""
    flipped = object.__new__(BinomialModel)
    flipped.__dict__.update(model.__dict__)
    object.__setattr__(flipped, "success", ~model.success)
    return latent_probit(streams, state, flipped)


def probit_untruncated(streams, state: BinomialState, model: BinomialModel):
    """Utilities drawn from N(eta, 1) without truncation (the outcome is ignored)."""
    eta = linear_predictor(state, model)
    u = streams.uniform(eta.shape[1])  # same stream use as the correct block
    z = eta + np.where(u < 0.5, -1.0, 1.0) * truncated_normal_positive(
        np.zeros_like(eta), 1.0, np.abs(2 * u - 1)
    )
    return with_latent(state, model, np.broadcast_to(model.trials, eta.shape), z)


def collapsed_with_row_counts(streams, state: BinomialState, model: BinomialModel):
    """Collapsed sigma_alpha step with the Gaussian model's 1 / n_j noise variance, not 1 / W_j."""
    resid, _ = collapsed_residuals(state, model)
    n_j = np.broadcast_to(model.data.stats.n_j[model.observed_groups], resid.shape)
    sigma = draw_collapsed_scale(
        streams, model.priors.sigma_alpha, state.sigma_alpha, resid, 1.0 / n_j
    )
    return state._replace(sigma_alpha=sigma)


def _swap(family: str, **blocks: Callable) -> tuple[Callable, ...]:
    """Return the family's collapsed sweep with blocks replaced by position name."""
    names = ["latent", "beta_gamma", "sigma_alpha", "alpha"]
    base = FAMILY_SCHEMES[family]["collapsed"]
    return tuple(blocks.get(n, b) for n, b in zip(names, base, strict=True))


def collapsed_without_jacobian(streams, state: BinomialState, model: BinomialModel):
    """Collapsed slice step on log sigma_alpha that forgets the Jacobian of sigma -> log sigma."""
    resid, W_obs = collapsed_residuals(state, model)
    resid2 = resid**2
    noise_var = (1.0 / W_obs)[:, None, :]
    prior = model.priors.sigma_alpha

    def logf(x):
        v = noise_var + np.exp(2.0 * x)[..., None]
        return -0.5 * (np.log(v) + resid2[:, None, :] / v).sum(axis=-1) + prior.logpdf(np.exp(x))

    x = slice_step_batched(streams, logf, np.log(state.sigma_alpha), width=1.0)
    return state._replace(sigma_alpha=np.exp(x))


def _catalogue():
    logistic = [
        Mutant(
            "pg_without_tilt",
            "omega ~ PG(m, 0): the Polya-Gamma draw ignores the linear predictor",
            _swap("logistic", latent=pg_without_tilt),
            "logistic",
        ),
        Mutant(
            "pg_double_shape",
            "omega ~ PG(2m, eta): wrong Polya-Gamma shape",
            _swap("logistic", latent=pg_double_shape),
            "logistic",
        ),
        Mutant(
            "pg_one_trial",
            "omega ~ PG(1, eta) whatever the row's trials (exact on 0/1 rows)",
            _swap("logistic", latent=pg_one_trial),
            "logistic",
        ),
        Mutant(
            "pg_uncentred_response",
            "pseudo-response y instead of kappa = y - m/2",
            _swap("logistic", latent=pg_uncentred_response),
            "logistic",
        ),
        Mutant(
            "logistic_row_count_weights",
            "collapsed sigma_alpha step with noise variance 1/n_j instead of 1/sum(omega)",
            _swap("logistic", sigma_alpha=collapsed_with_row_counts),
            "logistic",
        ),
    ]
    probit = [
        Mutant(
            "probit_flipped_truncation",
            "Albert-Chib utilities truncated on the wrong side",
            _swap("probit", latent=probit_flipped_truncation),
            "probit",
        ),
        Mutant(
            "probit_untruncated",
            "Albert-Chib utilities not truncated (the outcome is ignored)",
            _swap("probit", latent=probit_untruncated),
            "probit",
        ),
        Mutant(
            "probit_no_jacobian",
            "collapsed slice step on log sigma_alpha without the Jacobian term log sigma",
            _swap("probit", sigma_alpha=collapsed_without_jacobian),
            "probit",
        ),
    ]
    logistic += integrated_mutants("logistic")
    probit += integrated_mutants("probit")
    return {
        "logistic": {m.name: m for m in logistic},
        "probit": {m.name: m for m in probit},
    }


BINOMIAL_MUTANTS = _catalogue()
