"""The count families under the calibration designs: the designs a log link can take, SBC of
both families over them, and a slip in how the offset enters that only varying exposures show."""

import numpy as np
import pytest

import gibbs
from gibbs.priors import Normal
from tests.tiers import tiered
from validation.batteries import geweke_designs, sbc_designs
from validation.count_mutants import COUNT_MUTANTS
from validation.designs import DESIGNS, SBC_DESIGNS, design_spec, designs_for

COUNT_FAMILIES = ("poisson", "negative_binomial")
# Geweke settings of the design tests (tests/test_designs.py uses the same).
SMALL = {"chains": 100, "iterations": 400, "burn": 50, "marginal_draws": 20_000}


def _stops(family: str, offset: bool = True):
    from gibbs.police_stops import load_police_stops

    stops = load_police_stops(quiet=True)
    if offset:
        return gibbs.specify(stops.data, family=family, factors=stops.factors)
    frame = stops.frame.drop(columns="log_arrests")
    return gibbs.specify("stops ~ 1 + (1 | eth) + (1 | precinct)", data=frame, family=family)


@pytest.mark.parametrize("family", COUNT_FAMILIES)
def test_count_designs_are_those_a_log_link_can_take(family):
    spec = _stops(family)
    names = [d.name for d in designs_for(spec, list(DESIGNS))]
    assert names == ["balanced", "unbalanced", "half-normal", "exposure", "shipped"]
    exposure = design_spec(spec, DESIGNS["exposure"], seed=1)
    # Exposures over two orders of magnitude (uniform on -2.3..3 in logs).
    assert np.ptp(exposure.data.offset) > 4.0
    assert np.all(exposure.data.y == np.round(exposure.data.y))
    # The N(0, 10^2) defaults are proper but imply rates of e^30: the count calibration priors.
    assert spec.priors.gamma == Normal(0.0, 10.0)
    assert exposure.priors.gamma == Normal(0.0, 1.0)
    # Negative control: a Gaussian model gets neither the exposure design nor other priors.
    from gibbs.datasets import load_radon

    radon = gibbs.specify(load_radon())
    assert "exposure" not in [d.name for d in designs_for(radon, list(DESIGNS))]


@pytest.mark.parametrize(
    "family",
    tiered(COUNT_FAMILIES, set()),  # minutes each: make test-all
)
def test_count_families_pass_sbc_over_the_designs(family):
    """1,000 replications per design (and per stress setting of the slice step)."""
    spec = _stops(family)
    designs = [d for d in SBC_DESIGNS if d in [x.name for x in designs_for(spec, SBC_DESIGNS)]]
    result = sbc_designs(
        spec, spec.schemes()[spec.default_scheme], designs=designs, replications=1000, seed=1
    )
    assert result.passed, result.table


# Both families in the default tier (the negative binomial's integrated scheme, about 10 s; it
# took two minutes under Polya-Gamma draws of large shapes).
@pytest.mark.parametrize("family", tiered(COUNT_FAMILIES, set(COUNT_FAMILIES)))
def test_count_family_passes_sbc_under_varying_exposure(family):
    spec = _stops(family)
    result = sbc_designs(
        spec,
        spec.schemes()[spec.default_scheme],
        designs=("exposure",),
        stress=False,
        replications=200,
        seed=2,
    )
    assert result.passed, result.table


def test_sbc_of_a_count_family_catches_a_mutant():
    spec = _stops("poisson")
    design = design_spec(spec, DESIGNS["exposure"], seed=2)
    sweep = COUNT_MUTANTS["epsilon_scale_over_groups"].sweep(design)
    result = sbc_designs(spec, sweep, designs=("exposure",), stress=False, replications=200, seed=2)
    assert not result.passed, result.table


@pytest.mark.parametrize("family", COUNT_FAMILIES)
def test_an_offset_slip_hides_without_exposures_and_shows_with_them(family):
    """The latent block keeps the pseudo-responses of eta + offset for blocks that see eta:
    exact without an offset (the balanced design of a model without one), plain under the
    exposure design's offsets."""
    from validation.inertness import exact_here

    template = _stops(family, offset=False)
    exposure = design_spec(template, DESIGNS["exposure"], seed=1)
    balanced = design_spec(template, DESIGNS["balanced"], seed=1)
    assert balanced.data.offset is None
    sweep = COUNT_MUTANTS["latent_without_offset_shift"].sweep(exposure)
    assert exact_here(balanced, sweep)
    assert not exact_here(exposure, sweep)


@pytest.mark.slow
def test_geweke_catches_the_offset_slip_under_varying_exposure():
    # The Poisson family: Geweke's chains of the negative binomial pay O(count) per Polya-Gamma
    # draw at the exposure design's large counts (minutes); the slip is the same code. The
    # exposure design's prior counts are heavy-tailed: at 100 chains x 400 iterations the
    # correct sampler's log(sigma_eth)^2 was off by 5.5 of its batch-means MCSE, at 200 x 1000
    # by 4.0, at 400 x 1000 it passed: these settings.
    template = _stops("poisson", offset=False)
    exposure = design_spec(template, DESIGNS["exposure"], seed=1)
    sweep = COUNT_MUTANTS["latent_without_offset_shift"].sweep(exposure)
    long = {**SMALL, "chains": 400, "iterations": 1000}
    hard = geweke_designs(template, sweep, designs=("exposure",), stress=False, **long)
    assert not hard.passed, hard.table
    right = geweke_designs(
        template, template.schemes()["collapsed"], designs=("exposure",), stress=False, **long
    )
    assert right.passed, right.table
