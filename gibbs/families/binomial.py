"""The binomial families: logistic (Polya-Gamma augmentation) and probit (Albert-Chib).

Row i, y_i successes out of m_i trials, contributes exp(r_i eta_i - w_i eta_i^2 / 2) given its
latent variables:

- logistic (Polson, Scott & Windle 2013, theorem 1): omega_i ~ PG(m_i, eta_i), w_i = omega_i and
  r_i = y_i - m_i / 2;
- probit (Albert & Chib 1993): one utility per trial, z_ik ~ N(eta_i, 1) truncated to (0, inf)
  for the y_i successes and to (-inf, 0] for the m_i - y_i failures; w_i = m_i, r_i = sum_k z_ik.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy import special

from gibbs.data import HierarchicalData
from gibbs.families.base import binomial_loglik, check_outcome, success_probability
from gibbs.families.family import Family
from gibbs.kernels.scales import truncated_normal_positive
from gibbs.priors import (
    Normal,
    Priors,
    SlopesPriors,
    binary_calibration,
    binomial_default,
    slopes_calibration_priors,
)

__all__ = [
    "LOGISTIC",
    "PROBIT",
    "BinomialFamily",
    "TrialLayout",
    "albert_chib",
    "polya_gamma",
    "trial_layout",
]


class TrialLayout(NamedTuple):
    """Where each trial of the probit augmentation belongs (one utility per trial)."""

    trials: np.ndarray
    kappa: np.ndarray
    success: np.ndarray
    row_starts: np.ndarray
    row_of_trial: np.ndarray
    bernoulli: bool


def trial_layout(Y: np.ndarray, trials: np.ndarray) -> TrialLayout:
    """Index the trials of outcomes ``Y`` (chains or 1, n): the first y_i of a row succeed."""
    m = trials.astype(np.intp)
    row_starts = np.concatenate([[0], np.cumsum(m)[:-1]])
    row_of_trial = np.repeat(np.arange(m.size), m)
    rank = np.arange(m.sum()) - np.repeat(row_starts, m)
    return TrialLayout(
        trials=trials,
        kappa=Y - 0.5 * trials,
        success=rank < Y[:, row_of_trial],
        row_starts=row_starts,
        row_of_trial=row_of_trial,
        bernoulli=bool(np.all(m == 1)),
    )


def polya_gamma(streams, eta: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Draw omega_i ~ PG(m_i, eta_i) with the ``polyagamma`` package, chain by chain.

    Each chain uses its own ``latent`` generator, so its draws do not depend on the others.
    """
    # The samplers' one dependency beyond numpy and scipy (a maintained Polya-Gamma sampler
    # rather than a new one), imported where it is needed.
    from polyagamma import random_polyagamma

    omega = np.empty(eta.shape)
    for c, gen in enumerate(streams.latent):
        random_polyagamma(trials, eta[c], out=omega[c], random_state=gen)
    return omega


def albert_chib(streams, eta: np.ndarray, layout: TrialLayout) -> np.ndarray:
    """Draw the Albert-Chib utilities, one per trial, and return their sum per row."""
    eta_t = eta if layout.bernoulli else eta[:, layout.row_of_trial]
    u = streams.uniform(eta_t.shape[1])
    success = np.broadcast_to(layout.success, eta_t.shape)
    # N(eta, 1) truncated to (0, inf), or minus N(-eta, 1) truncated to (0, inf) for a failure.
    sign = np.where(success, 1.0, -1.0)
    z = sign * truncated_normal_positive(sign * eta_t, 1.0, u)
    return z if layout.bernoulli else np.add.reduceat(z, layout.row_starts, axis=1)


@dataclass(frozen=True)
class BinomialFamily(Family):
    """y_i ~ Binomial(m_i, F(eta_i)) with F the logistic function or the normal CDF."""

    def check_outcome(self, data: HierarchicalData) -> None:
        """Y must count successes in 0..trials."""
        check_outcome(data, self.name)

    def check_priors(self, priors: Any, data: HierarchicalData, K: int, factors=()) -> None:
        """``Priors`` for K = 1 (no sigma_y); ``SlopesPriors`` with Normal locations for K > 1."""
        if K == 1:
            if not isinstance(priors, Priors):
                raise ValueError(f"varying intercepts need Priors, got {type(priors).__name__}")
            priors.check(data, self.name)
        else:
            if not isinstance(priors, SlopesPriors):
                raise ValueError(
                    "varying slopes need SlopesPriors (a prior on the covariance matrix Sigma), "
                    f"got {type(priors).__name__}"
                )
            priors.check(data, K)
            for name in ("beta", "gamma"):
                if not isinstance(getattr(priors, name), Normal):
                    raise ValueError(
                        f"prior on {name}: the {self.name} family with varying slopes needs a "
                        "Normal prior (a flat one can leave the posterior improper under "
                        "separation), e.g. Normal(0, 2.5)"
                    )
        priors.check_factors(factors)

    def default_priors(self, K: int = 1) -> Any:
        """N(0, 2.5^2) locations; uniform sigma_alpha, or Huang-Wand on Sigma for K > 1."""
        if K == 1:
            return binomial_default()
        return SlopesPriors(beta=Normal(0.0, 2.5), gamma=Normal(0.0, 2.5))

    def calibration_priors(self, K: int = 1) -> Any:
        """N(0, 1) locations and IG(3, 2) sigma_alpha^2; for K > 1 the slopes-calibration set."""
        return binary_calibration() if K == 1 else slopes_calibration_priors()

    def prepare(self, Y: np.ndarray, trials: np.ndarray) -> TrialLayout:
        """Return the trial layout of the outcomes."""
        return trial_layout(Y, trials)

    def augment(self, streams, eta: np.ndarray, prepared: TrialLayout):
        """(w, r) of the Polya-Gamma or Albert-Chib augmentation."""
        if self.name == "logistic":
            omega = polya_gamma(streams, eta, prepared.trials)
            return omega, np.broadcast_to(prepared.kappa, eta.shape)
        r = albert_chib(streams, eta, prepared)
        return np.broadcast_to(prepared.trials, eta.shape), r

    def loglik(self, eta, y, trials, sigma_y=None) -> np.ndarray:
        """Binomial log-likelihood per row, binomial coefficient included."""
        return binomial_loglik(self.name, eta, y, trials)

    def simulate(
        self, rngs, eta: np.ndarray, trials: np.ndarray, sigma_y=None, latent=None
    ) -> np.ndarray:
        """Y ~ Binomial(m, F(eta)), one generator per chain."""
        p = success_probability(self.name, eta)
        return np.stack([g.binomial(trials.astype(np.int64), p[c]) for c, g in enumerate(rngs)])

    def working_response(self, y, trials) -> tuple[np.ndarray, np.ndarray]:
        """link((y + 1/2) / (m + 1)) and the binomial information at that proportion."""
        prop = (y + 0.5) / (trials + 1.0)
        if self.name == "logistic":
            return special.logit(prop), trials * prop * (1 - prop)
        z0 = special.ndtri(prop)
        return z0, trials * np.exp(-(z0**2)) / (2 * np.pi * prop * (1 - prop))


LOGISTIC = BinomialFamily(
    "logistic", fixed_weights=False, outcome="binomial", baseline="maximum likelihood"
)
PROBIT = BinomialFamily(
    "probit", fixed_weights=False, outcome="binomial", baseline="maximum likelihood"
)
