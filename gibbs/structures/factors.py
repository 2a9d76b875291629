"""Further grouping factors, nested or crossed, of the Gaussian family (:mod:`gibbs.factors`)."""

from __future__ import annotations

from gibbs.factors import (
    DEFAULT_FACTORS_SCHEME,
    FACTORS_SCHEMES,
    factors_inference_data,
    initial_state_factors,
)
from gibbs.kernels.factors import FactorsModel, log_joint_factors
from gibbs.structures.base import Implementation, state_recorder
from gibbs.structures.intercepts import PARAMS

__all__ = ["GAUSSIAN_FACTORS"]

GAUSSIAN_FACTORS = Implementation(
    name="factors",
    build=lambda data, slopes, factors, priors, family: FactorsModel(data, factors, priors),
    schemes=lambda family: FACTORS_SCHEMES,
    default_scheme=lambda family: DEFAULT_FACTORS_SCHEME,
    initial_state=initial_state_factors,
    recorder=lambda model, keep, dtype: state_recorder(
        (*PARAMS, "effects", "sigma_f"), keep, log_joint_factors, model
    ),
    to_idata=factors_inference_data,
    attrs=lambda model: {"factors": [f.name for f in model.factors]},
)
