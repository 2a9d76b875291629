"""Further grouping factors, nested or crossed, of the Gaussian family (:mod:`gibbs.components`)."""

from __future__ import annotations

from gibbs.components import (
    COMPONENTS_SCHEMES,
    DEFAULT_COMPONENTS_SCHEME,
    components_inference_data,
    initial_state_components,
)
from gibbs.kernels.components import ComponentsModel, log_joint_components
from gibbs.structures.base import Implementation, state_recorder
from gibbs.structures.intercepts import PARAMS

__all__ = ["GAUSSIAN_FACTORS"]

GAUSSIAN_FACTORS = Implementation(
    name="factors",
    build=lambda data, slopes, factors, priors, family: ComponentsModel(data, factors, priors),
    schemes=lambda family: COMPONENTS_SCHEMES,
    default_scheme=lambda family: DEFAULT_COMPONENTS_SCHEME,
    initial_state=initial_state_components,
    recorder=lambda model, keep, dtype: state_recorder(
        (*PARAMS, "effects", "sigma_f"), keep, log_joint_components, model
    ),
    to_idata=components_inference_data,
    attrs=lambda model: {"factors": [f.name for f in model.factors]},
)
