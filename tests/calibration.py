"""The small design and proper priors shared by the Geweke and SBC tests."""

import numpy as np

from gibbs.datasets import simulate_hierarchical
from gibbs.priors import HalfCauchy, HalfNormal, HalfStudentT, InverseGamma, Normal, Priors

LEVEL = 0.01
_LOCATIONS = {"beta": Normal(0, 1), "gamma": Normal(0, 1)}
PRIORS = {
    "inverse_gamma": Priors(
        **_LOCATIONS, sigma_y=InverseGamma(3, 2), sigma_alpha=InverseGamma(3, 1)
    ),
    # nu = 5: the Geweke test functions include sigma^2, whose variance needs E[sigma^4] < inf.
    "half_t": Priors(**_LOCATIONS, sigma_y=HalfStudentT(5, 1), sigma_alpha=HalfStudentT(5, 0.7)),
    # Half-normal on one scale at a time: its GIG draw runs chain by chain (scipy).
    "half_normal_alpha": Priors(
        **_LOCATIONS, sigma_y=InverseGamma(3, 2), sigma_alpha=HalfNormal(0.7)
    ),
    "half_normal_y": Priors(**_LOCATIONS, sigma_y=HalfNormal(1), sigma_alpha=InverseGamma(3, 1)),
}
# Heavy-tailed scales: ranks (SBC) need no moments, Geweke's test functions do.
HEAVY_TAILED = {
    "half_cauchy": Priors(**_LOCATIONS, sigma_y=HalfCauchy(1.0), sigma_alpha=HalfCauchy(0.5)),
}


def small_design():
    """Six groups of 1-4 rows, one X and one U column."""
    data, _ = simulate_hierarchical(
        6, np.array([2, 3, 1, 4, 2, 3]), beta=[0.5], gamma=[1.0, 0.5], seed=1
    )
    return data
