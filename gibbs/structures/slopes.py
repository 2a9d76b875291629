"""Varying slopes of the Gaussian family: the kernel of :mod:`gibbs.kernels.slopes`."""

from __future__ import annotations

from gibbs.kernels.slopes import SlopesModel, log_joint_slopes
from gibbs.slopes import (
    DEFAULT_SLOPES_SCHEME,
    SLOPES_SCHEMES,
    initial_state_slopes,
    slopes_inference_data,
)
from gibbs.structures.base import Implementation, state_recorder
from gibbs.structures.intercepts import PARAMS

__all__ = ["GAUSSIAN_SLOPES"]

GAUSSIAN_SLOPES = Implementation(
    name="slopes",
    build=lambda data, slopes, factors, priors, family: SlopesModel(data, tuple(slopes), priors),
    schemes=lambda family: SLOPES_SCHEMES,
    default_scheme=lambda family: DEFAULT_SLOPES_SCHEME,
    initial_state=initial_state_slopes,
    recorder=lambda model, keep, dtype: state_recorder(
        (*PARAMS, "Sigma"), keep, log_joint_slopes, model
    ),
    to_idata=slopes_inference_data,
    attrs=lambda model: {"slopes": list(model.slopes)},
)
