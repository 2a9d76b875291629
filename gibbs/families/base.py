"""Base helpers of the families: names, aliases, outcome checks, links and log-likelihoods."""

from __future__ import annotations

import numpy as np
from scipy import special

from gibbs.data import HierarchicalData

__all__ = [
    "BINOMIAL_FAMILIES",
    "COUNT_FAMILIES",
    "FAMILIES",
    "binomial_loglik",
    "check_outcome",
    "normalize_family",
    "success_probability",
]

BINOMIAL_FAMILIES = ("logistic", "probit")
COUNT_FAMILIES = ("poisson", "negative_binomial")
FAMILIES = ("gaussian", *BINOMIAL_FAMILIES, *COUNT_FAMILIES)
# Names users of bambi, brms and glm() type for the same thing.
_ALIASES = {
    "normal": "gaussian",
    "bernoulli": "logistic",
    "binomial": "logistic",
    "logit": "logistic",
    "negative-binomial": "negative_binomial",
    "negativebinomial": "negative_binomial",
    "negbinomial": "negative_binomial",
    "nb": "negative_binomial",
    "overdispersed-poisson": "poisson",
}


def normalize_family(family: str) -> str:
    """Return the canonical family name, accepting common aliases (``"bernoulli"``, ...)."""
    name = _ALIASES.get(str(family).lower(), str(family).lower())
    if name not in FAMILIES:
        raise ValueError(
            f"unknown family {family!r}; choose one of {list(FAMILIES)} "
            f"(aliases: {', '.join(sorted(_ALIASES))})"
        )
    return name


def check_outcome(data: HierarchicalData, family: str) -> None:
    """Raise ``ValueError`` unless ``data.y`` is a count in 0..trials for a binomial family."""
    if family not in BINOMIAL_FAMILIES:
        return
    y, m = data.y, data.binomial_trials
    bad = np.flatnonzero((y < 0) | (y > m) | (y != np.round(y)))
    if bad.size:
        what = "0 or 1" if data.trials is None else "an integer from 0 to its trials"
        raise ValueError(
            f"the {family} family needs outcome '{data.y_name}' to be {what}: {bad.size} row(s) "
            f"are not (first at row {bad[0]}, value {y[bad[0]]:g})"
        )


def success_probability(family: str, eta: np.ndarray) -> np.ndarray:
    """Inverse link: logistic(eta) or Phi(eta)."""
    return special.expit(eta) if family == "logistic" else special.ndtr(eta)


def binomial_loglik(family: str, eta: np.ndarray, y: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Pointwise log p(y_i | eta_i), binomial coefficient included (as in ``pm.Binomial``).

    Written with ``logaddexp`` and ``log_ndtr`` so that it stays finite far in the tails.
    """
    log_choose = (
        special.gammaln(trials + 1) - special.gammaln(y + 1) - special.gammaln(trials - y + 1)
    )
    if family == "logistic":
        return log_choose + y * eta - trials * np.logaddexp(0.0, eta)
    return log_choose + y * special.log_ndtr(eta) + (trials - y) * special.log_ndtr(-eta)
