"""Outcome families: Gaussian, binomial (logit and probit links) and counts.

A family fixes the likelihood of y_i given the linear predictor o_i + eta_i, with eta_i =
alpha_j[i] + X_i beta and o_i the row's offset (zero unless given)::

    gaussian           y_i ~ N(o_i + eta_i, sigma_y^2)
    logistic           y_i ~ Binomial(m_i, logistic(o_i + eta_i))    (Polya-Gamma augmentation)
    probit             y_i ~ Binomial(m_i, Phi(o_i + eta_i))         (Albert-Chib augmentation)
    poisson            y_i ~ Poisson(exp(o_i + eta_i + e_i)),  e_i ~ N(0, sigma_epsilon^2)
    negative_binomial  y_i ~ NB(mean exp(o_i + eta_i), phi)          (Polya-Gamma augmentation)

with m_i the trials of row i (``HierarchicalData.trials``; one for 0/1 outcomes). The group
level, alpha_j ~ N(U_j gamma, sigma_alpha^2), is the same for every family.
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
from gibbs.families.count import NEGATIVE_BINOMIAL, POISSON
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
FAMILY: dict[str, Family] = {
    f.name: f for f in (GAUSSIAN, LOGISTIC, PROBIT, POISSON, NEGATIVE_BINOMIAL)
}


def get_family(family: str | Family) -> Family:
    """Return the family object of a name or alias (``"bernoulli"``, ...), or ``family`` itself."""
    if isinstance(family, Family):
        return family
    return FAMILY[normalize_family(family)]
