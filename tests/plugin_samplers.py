"""Samplers that are not the suite's own, for the plug-in point of ``gibbs-suite verify``.

Each is a callable ``(data, seed, draws, chains) -> InferenceData``: ``wrapped`` is correct (the
suite's sampler with the inverse-gamma calibration priors), ``inflated`` reports sigma_alpha 15%
too large, ``copied_chains`` runs every chain from one seed.
"""

import gibbs
from gibbs.priors import PRESETS

PRIORS = PRESETS["inverse-gamma"]()


def wrapped(data, seed, draws, chains):
    """The suite's sampler under the inverse-gamma calibration priors."""
    return gibbs.sample(
        data, PRIORS, draws=draws, chains=chains, tune=300, seed=seed, progressbar=False
    )


def inflated(data, seed, draws, chains):
    """A biased sampler: sigma_alpha scaled by 1.15 after sampling."""
    idata = wrapped(data, seed, draws, chains)
    idata.posterior["sigma_alpha"] = idata.posterior["sigma_alpha"] * 1.15
    return idata


def copied_chains(data, seed, draws, chains):
    """Every chain from the same seed: copies."""
    return gibbs.sample(
        data, PRIORS, draws=draws, chains=chains, tune=300, seed=[seed] * chains, progressbar=False
    )
