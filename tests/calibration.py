"""The small design and proper priors shared by the Geweke and SBC tests."""

import numpy as np

from gibbs.datasets import simulate_hierarchical
from gibbs.priors import HalfNormal, HalfStudentT, InverseGamma, Normal, Priors

LEVEL = 0.01
_LOCATIONS = {"beta": Normal(0, 1), "gamma": Normal(0, 1)}
PRIORS = {
    "inverse_gamma": Priors(
        **_LOCATIONS, sigma_y=InverseGamma(3, 2), sigma_alpha=InverseGamma(3, 1)
    ),
    "half_t": Priors(**_LOCATIONS, sigma_y=HalfStudentT(4, 1), sigma_alpha=HalfStudentT(4, 0.7)),
    # Half-normal on one scale at a time: its GIG draw runs chain by chain (scipy).
    "half_normal_alpha": Priors(
        **_LOCATIONS, sigma_y=InverseGamma(3, 2), sigma_alpha=HalfNormal(0.7)
    ),
    "half_normal_y": Priors(**_LOCATIONS, sigma_y=HalfNormal(1), sigma_alpha=InverseGamma(3, 1)),
}


def small_design():
    """Six groups of 1-4 rows, one X and one U column."""
    data, _ = simulate_hierarchical(
        6, np.array([2, 3, 1, 4, 2, 3]), beta=[0.5], gamma=[1.0, 0.5], seed=1
    )
    return data
