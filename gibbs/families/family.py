"""The family interface: what a structure's kernel asks of an outcome model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gibbs.data import HierarchicalData

__all__ = ["Family"]


@dataclass(frozen=True)
class Family:
    """An outcome model y_i | eta_i, seen by the kernels through Gaussian pseudo-observations.

    Given its latent variables (if any), row i contributes exp(r_i eta_i - w_i eta_i^2 / 2) to the
    likelihood of the linear predictor eta_i; every location and scale block of a structure is
    written on the per-group sums of w and r.

    Attributes
    ----------
    name : str
    fixed_weights : bool
        True when w and r are fixed by the data and a dispersion parameter (Gaussian: w =
        1 / sigma_y^2, r = y / sigma_y^2), so a structure can fix its sums once; False when a
        latent block redraws them every sweep (:meth:`augment`).
    dispersion : tuple of str
        The family's own parameters (``("sigma_y",)`` for the Gaussian family).
    outcome : {"continuous", "binomial", "count"}
        What the outcome is: a dataset with both picks the matching column.
    baseline : str
        How the classical pooling baselines of this family are fitted.
    own_priors_calibrate : bool
        Whether Geweke and SBC may run under a model's own (proper) priors; if not they take
        :meth:`calibration_priors`.
    """

    name: str
    fixed_weights: bool
    dispersion: tuple[str, ...] = ()
    outcome: str = "continuous"
    baseline: str = "least squares"
    own_priors_calibrate: bool = True

    def check_outcome(self, data: HierarchicalData) -> None:
        """Raise ``ValueError`` for an outcome this family cannot model."""

    def check_priors(self, priors: Any, data: HierarchicalData, K: int, factors=()) -> None:
        """Raise ``ValueError`` for priors of the wrong kind or an improper posterior."""
        raise NotImplementedError

    def default_priors(self, K: int = 1) -> Any:
        """Return the default priors: ``Priors`` for K = 1, ``SlopesPriors`` for K > 1."""
        raise NotImplementedError

    def calibration_priors(self, K: int = 1) -> Any:
        """Return proper, light-tailed priors for Geweke and SBC (finite test-function moments)."""
        raise NotImplementedError

    def prepare(self, Y: np.ndarray, trials: np.ndarray) -> Any:
        """Return what :meth:`augment` needs of outcomes ``Y`` (chains or 1, n)."""
        return None

    def augment(self, streams, eta: np.ndarray, prepared: Any) -> tuple[np.ndarray, np.ndarray]:
        """Draw the latent variables given eta (chains, n); return (w, r), each (chains, n)."""
        raise NotImplementedError

    # A family with a dispersion and latent variables the state keeps (the count families)
    # overrides these; eta is always the full linear predictor, offset included.
    def dispersion_prior(self, priors: Any) -> Any:
        """Return the prior of the family's dispersion parameter (the Gaussian's: ``sigma_y``)."""
        return priors.sigma_y

    def initial_latent(self, eta: np.ndarray, y: np.ndarray, disp: np.ndarray) -> Any:
        """Return initial latent variables kept in the state (``None``: none are kept)."""
        return None

    def draw_latent(self, rng: np.random.Generator, eta: np.ndarray, disp: np.ndarray) -> Any:
        """Draw the kept latent variables from their prior given eta (Geweke and SBC)."""
        return None

    def latent_step(
        self, streams, eta, latent, disp, prepared
    ) -> tuple[Any, np.ndarray, np.ndarray]:
        """Update the latent variables; return (kept latent state, w, r) for eta."""
        return (None, *self.augment(streams, eta, prepared))

    def dispersion_step(self, streams, eta, latent, disp, aux, prior, prepared):
        """Draw the dispersion given eta and the kept latent variables; return (disp, aux)."""
        raise NotImplementedError

    def joint_loglik(self, eta, y, trials, disp, latent) -> np.ndarray:
        """Pointwise log p(y_i, kept latent_i | eta_i, disp): the state's log density."""
        return self.loglik(eta, y, trials, disp)

    def loglik(self, eta, y, trials, sigma_y=None) -> np.ndarray:
        """Pointwise log p(y_i | eta_i) (and the dispersion), broadcast over leading axes."""
        raise NotImplementedError

    def simulate(
        self, rngs, eta: np.ndarray, trials: np.ndarray, sigma_y=None, latent=None
    ) -> np.ndarray:
        """Draw y given eta (chains, ..., n), one generator per chain (and the kept latents)."""
        raise NotImplementedError

    def working_response(self, y, trials) -> tuple[np.ndarray, np.ndarray]:
        """Return a response on the linear predictor's scale and its weights (initial values)."""
        raise NotImplementedError
