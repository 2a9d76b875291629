"""The Gaussian family: y_i ~ N(eta_i, sigma_y^2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.families.family import Family
from gibbs.priors import (
    Priors,
    SlopesPriors,
    conjugate_inverse_gamma,
    slopes_calibration_priors,
)

__all__ = ["GAUSSIAN", "GaussianFamily"]

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class GaussianFamily(Family):
    """Normal outcomes; w = 1 / sigma_y^2 and r = y / sigma_y^2 are fixed given sigma_y."""

    def check_outcome(self, data: HierarchicalData) -> None:
        """Refuse binomial trials, and outcomes that the group intercepts and X fit exactly.

        An exact fit within groups (y constant within every group with more than one row, a
        constant y, y a copy of a predictor) makes the marginal likelihood grow like
        sigma_y^-(n - J - p) as sigma_y -> 0: the posterior piles up there (improper under the
        default scale priors) and the draws are meaningless.
        """
        if data.trials is not None:
            raise ValueError(
                "trials are for the binomial families (family='logistic' or 'probit'); the "
                "Gaussian family has none: drop trials="
            )
        # The per-group sums the sweeps use already (HierarchicalData.stats).
        st = data.stats
        n_j = st.n_j
        means = st.sum_y / np.maximum(n_j, 1)
        yw = data.y - means[data.group]
        scale = max(float(np.sum((data.y - data.y.mean()) ** 2)), float(np.sum(data.y**2)))
        if data.p:
            Xm = st.sum_X / np.maximum(n_j, 1)[:, None]
            Xw = data.X - Xm[data.group]
            coef, *_ = np.linalg.lstsq(Xw, yw, rcond=None)
            yw = yw - Xw @ coef
        rss = float(np.sum(yw**2))
        # Degrees of freedom of the within-group residual: with none (every group a single
        # row) the group-level distribution still bounds the likelihood.
        rank = np.linalg.matrix_rank(Xw) if data.p else 0
        dof = data.n - int(np.sum(n_j > 0)) - rank
        exact = (dof >= 1 and rss <= 1e-16 * scale) or np.ptp(data.y) == 0
        if exact:
            if np.ptp(data.y) == 0:
                what = f"{data.y_name} is constant ({data.y[0]:g})"
            elif np.all(np.abs(data.y - means[data.group]) <= 1e-12 * np.abs(data.y).max()):
                what = f"{data.y_name} is constant within every {data.group_dim}"
            else:
                what = (
                    f"{data.y_name} is an exact linear function of the predictors "
                    f"[{', '.join(data.x_names)}] and the {data.group_dim} intercepts"
                )
            raise ValueError(
                f"{what}: the residual variance is zero, so the posterior of sigma_y piles up "
                "at 0 (improper) and the draws would be meaningless; check the outcome column "
                "(is it also a predictor?)"
            )

    def check_priors(self, priors: Any, data: HierarchicalData, K: int, factors=()) -> None:
        """Check a ``Priors`` (K = 1) or ``SlopesPriors`` (K > 1) for this family."""
        if K == 1:
            if not isinstance(priors, Priors):
                raise ValueError(f"varying intercepts need Priors, got {type(priors).__name__}")
            priors.check(data)
        else:
            if not isinstance(priors, SlopesPriors):
                raise ValueError(
                    "varying slopes need SlopesPriors (a prior on the covariance matrix Sigma), "
                    f"got {type(priors).__name__}"
                )
            priors.check(data, K)
        priors.check_factors(factors)

    def default_priors(self, K: int = 1) -> Any:
        """Gelman & Hill's: flat locations, uniform scales (Huang-Wand on Sigma for K > 1)."""
        return Priors() if K == 1 else SlopesPriors()

    def calibration_priors(self, K: int = 1) -> Any:
        """N(0, 2^2) locations and IG(3, 2) variances; for K > 1 the slopes-calibration set."""
        return conjugate_inverse_gamma() if K == 1 else slopes_calibration_priors()

    def loglik(self, eta, y, trials, sigma_y=None) -> np.ndarray:
        """Log N(y | eta, sigma_y^2) per row."""
        z = (y - eta) / sigma_y
        return -0.5 * (_LOG_2PI + z * z) - np.log(sigma_y)

    def simulate(
        self, rngs, eta: np.ndarray, trials: np.ndarray, sigma_y=None, latent=None
    ) -> np.ndarray:
        """Y = eta + sigma_y * N(0, 1), one generator per chain (leading axis)."""
        noise = np.stack([g.standard_normal(eta.shape[1:]) for g in rngs])
        return eta + sigma_y * noise

    def working_response(self, y, trials) -> tuple[np.ndarray, np.ndarray]:
        """Y itself, unit weights."""
        return np.asarray(y, float), np.ones(len(y))


GAUSSIAN = GaussianFamily("gaussian", fixed_weights=True, dispersion=("sigma_y",))
