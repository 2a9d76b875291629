"""Outcome families: the Gaussian model and the binomial models with logit and probit links.

A family fixes the likelihood of y_i given the linear predictor eta_i = alpha_j[i] + X_i beta::

    gaussian   y_i ~ N(eta_i, sigma_y^2)
    logistic   y_i ~ Binomial(m_i, logistic(eta_i))      (Polya-Gamma augmentation)
    probit     y_i ~ Binomial(m_i, Phi(eta_i))           (Albert-Chib augmentation)

with m_i the trials of row i (``HierarchicalData.trials``; one for 0/1 outcomes). The group level,
alpha_j ~ N(U_j gamma, sigma_alpha^2), is the same for every family.
"""

from __future__ import annotations

from gibbs.families.base import (
    BINOMIAL_FAMILIES,
    FAMILIES,
    binomial_loglik,
    check_outcome,
    normalize_family,
    success_probability,
)
from gibbs.families.binomial import LOGISTIC, PROBIT
from gibbs.families.family import Family
from gibbs.families.gaussian import GAUSSIAN

__all__ = [
    "BINOMIAL_FAMILIES",
    "FAMILIES",
    "FAMILY",
    "Family",
    "binomial_loglik",
    "check_outcome",
    "get_family",
    "normalize_family",
    "success_probability",
]

# The registry: every part of the suite asks a family object, never its name.
FAMILY: dict[str, Family] = {f.name: f for f in (GAUSSIAN, LOGISTIC, PROBIT)}


def get_family(family: str | Family) -> Family:
    """Return the family object of a name or alias (``"bernoulli"``, ...), or ``family`` itself."""
    if isinstance(family, Family):
        return family
    return FAMILY[normalize_family(family)]
