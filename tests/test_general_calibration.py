"""Geweke and SBC of the general kernel over the configuration registry, with negative controls.

Every row of tests/configurations.py gets Geweke's test of both schemes; every mutant of the
general kernel that applies to a row must fail it (the negative controls).
"""

import numpy as np
import pytest

from gibbs.covariance import InverseWishart
from gibbs.priors import InverseGamma, Normal, Priors, SlopesPriors
from tests.configurations import GENERAL_CONFIGS
from tests.tiers import tiered
from validation.general_calibration import geweke_general, sbc_general
from validation.mutant_catalogue import mutants_for

# Settings of every Geweke run: 200 chains x 500 iterations after 50, 50,000 marginal draws.
GEWEKE = {"chains": 200, "iterations": 500, "burn": 50, "marginal_draws": 50_000}


def calibration_spec(name):
    """The registry's spec with proper, light-tailed priors (finite moments of the functions)."""
    spec = GENERAL_CONFIGS[name]()
    scales = {f.name: InverseGamma(3.0, 2.0) for f in spec.factors}
    common = {
        "beta": Normal(0.0, 1.0),
        "gamma": Normal(0.0, 1.0),
        "sigma_y": InverseGamma(3, 2),
        "dispersion": InverseGamma(3.0, 2.0),
    }
    if spec.K > 1:
        priors = SlopesPriors(**common, Sigma=InverseWishart(6.0, 1.0), factor_scales=scales)
    else:
        priors = Priors(**common, sigma_alpha=InverseGamma(3.0, 2.0), factor_scales=scales)
    return spec.replace(priors=priors)


NAMES = sorted(GENERAL_CONFIGS)
DEFAULT = {"nested-factors-logistic", "slopes+factors-gaussian"}
# Geweke of the general kernel in the default tier: the Gaussian slopes + factors configuration
# (the logistic one runs its mutant there); every configuration in make test-all.
GEWEKE_DEFAULT = {"slopes+factors-gaussian"}


GEWEKE_CASES = [(name, scheme) for name in NAMES for scheme in ("collapsed", "blocked")]
# The negative binomial's integrated scheme (its default: exact-likelihood location moves).
INTEGRATED = [(name, "integrated") for name in NAMES if name.endswith("negative_binomial")]
GEWEKE_CASES += INTEGRATED


@pytest.mark.parametrize(
    ("name", "scheme"),
    tiered(
        GEWEKE_CASES,
        {(name, "collapsed") for name in GEWEKE_DEFAULT} | {INTEGRATED[0]},
        ids=[f"{n}-{s}" for n, s in GEWEKE_CASES],
    ),
)
def test_general_kernel_passes_geweke(name, scheme):
    spec = calibration_spec(name)
    result = geweke_general(spec, spec.schemes()[scheme], seed=2, **GEWEKE)
    assert result.passed, f"{result}\n{result.table}"


MUTANT_CASES = [(name, mutant) for name in NAMES for mutant in mutants_for(calibration_spec(name))]


@pytest.mark.parametrize(
    ("name", "mutant"),
    tiered(
        MUTANT_CASES,
        # One class in the default tier (a factor's scale); every mutant of every configuration
        # runs in make test-all.
        {
            ("slopes+factors-logistic", "factor_scale_over_rows"),
            ("nested-factors-negative_binomial", "translation_without_intercept_prior"),
        },
        ids=[f"{n}-{m}" for n, m in MUTANT_CASES],
    ),
)
def test_general_mutants_fail_geweke(name, mutant):
    spec = calibration_spec(name)
    _, sweep = mutants_for(spec)[mutant]
    result = geweke_general(spec, sweep, seed=1, **GEWEKE)
    assert not result.passed, str(result)


@pytest.mark.parametrize("name", tiered(NAMES, {"nested-factors-logistic"}))
def test_general_kernel_passes_sbc(name):
    spec = calibration_spec(name)
    # Sigma mixes slowly under binary outcomes: 1,000 draws keep the ESS-thinned ranks above
    # the 99 the rank statistic needs (with 400, slopes-probit's deviations failed the ECDF test
    # for the correct sampler: too few effective draws, not miscalibration).
    draws = 1000 if spec.K > 1 else 400
    result = sbc_general(spec, replications=200, draws=draws, tune=300, seed=3)
    assert result.passed, str(result)


def test_sbc_catches_a_general_mutant():
    spec = calibration_spec("nested-factors-logistic")
    _, sweep = mutants_for(spec)["deviations_without_shrinkage"]
    result = sbc_general(spec, sweep, replications=100, draws=300, tune=100, seed=3)
    assert not result.passed, str(result)


def test_resumable_sbc_gives_the_batched_ranks_and_resumes(tmp_path):
    from validation.calibration import resumable_sbc, sbc_batch
    from validation.sbc import GibbsEngine

    spec = calibration_spec("crossed-factors-probit")
    engine = GibbsEngine(chains=2, draws=300, tune=100)
    settings = {"replications": 12, "seed": 4, "chunk": 4, "out_dir": tmp_path / "sbc"}
    full = resumable_sbc(spec, engine, **settings).run(progressbar=False)
    batch = sbc_batch(spec, None, replications=12, draws=300, tune=100, seed=4)
    np.testing.assert_array_equal(full.ranks.to_numpy(), batch.ranks.to_numpy())
    # Resume after losing a chunk: the same ranks.
    for path in sorted((tmp_path / "sbc").glob("replication_*.nc"))[4:8]:
        path.unlink()
    resumed = resumable_sbc(spec, engine, **settings).run(progressbar=False, resume=True)
    np.testing.assert_array_equal(resumed.ranks.to_numpy(), full.ranks.to_numpy())
    # Negative control: another model's replications (other quantities) are refused, not merged.
    other = calibration_spec("slopes-probit")
    with pytest.raises(ValueError, match="another"):
        resumable_sbc(other, engine, **settings).run(progressbar=False, resume=True)


@pytest.mark.slow
def test_nuts_engine_runs_the_twin_of_a_general_model():
    from validation.calibration import resumable_sbc
    from validation.sbc import PyMCEngine

    spec = calibration_spec("nested-factors-logistic")
    engine = PyMCEngine(sampler="nutpie", chains=2, draws=500, tune=500)
    result = resumable_sbc(spec, engine, replications=100, seed=5).run(progressbar=False)
    assert result.passed, str(result)


def test_integrated_scheme_passes_geweke_with_a_varying_slope():
    """The deviations move coordinate by coordinate under their conditional prior given the
    others (K = 2); no registry row has a negative binomial with a varying slope."""
    from tests.configurations import slopes_spec

    spec = slopes_spec("negative_binomial")
    common = {"beta": Normal(0.0, 1.0), "gamma": Normal(0.0, 1.0), "dispersion": InverseGamma(3, 2)}
    spec = spec.replace(priors=SlopesPriors(**common, Sigma=InverseWishart(6.0, 1.0)))
    result = geweke_general(spec, spec.schemes()["integrated"], seed=2, **GEWEKE)
    assert result.passed, f"{result}\n{result.table}"
    # Negative control: each coordinate under its marginal prior, the correlation ignored.
    _, broken = mutants_for(spec)["deviations_without_correlation"]
    assert not geweke_general(spec, broken, seed=1, **GEWEKE).passed
