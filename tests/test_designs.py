"""The calibration designs and the batteries over them: each design keeps the structure, the
correct sweep passes, and a design exposes a bug that the balanced design hides."""

import numpy as np
import pytest

import gibbs
from gibbs.kernels.tuning import STRESS, Tuning, current, tuned
from tests.configurations import GENERAL_CONFIGS
from validation.batteries import changes_draws, geweke_designs
from validation.designs import DESIGNS, design_spec, designs_for, scale_priors, sized_design
from validation.mutant_catalogue import mutants_for


def _radon(family="gaussian"):
    from gibbs.datasets import load_radon, load_radon_action_level

    data = load_radon() if family == "gaussian" else load_radon_action_level()
    return gibbs.specify(data, family=family)


@pytest.mark.parametrize("name", sorted(GENERAL_CONFIGS))
def test_designs_keep_structure_and_family(name):
    template = GENERAL_CONFIGS[name]()
    for design in designs_for(template, list(DESIGNS)):
        spec = design_spec(template, design)
        assert spec.structure == template.structure
        assert spec.family.name == template.family.name
        assert spec.implementation.name == template.implementation.name
        assert sorted(spec.factor_labels) == sorted(template.factor_labels)


def test_designs_break_the_symmetries_they_name():
    spec = _radon("logistic")
    unbalanced = design_spec(spec, DESIGNS["unbalanced"]).data
    sizes = np.bincount(unbalanced.group, minlength=unbalanced.n_groups)
    assert 0 in sizes and 1 in sizes and sizes.max() >= 20
    trials = design_spec(spec, DESIGNS["trials"]).data.trials
    assert trials is not None and trials.min() == 1 and trials.max() > 5
    X = design_spec(_radon(), DESIGNS["correlated"]).data.X
    assert abs(np.corrcoef(X.T)[0, 1]) > 0.4 and X.std(0).max() / X.std(0).min() > 10
    assert "trials" not in [d.name for d in designs_for(_radon(), list(DESIGNS))]


def test_prior_scales_move_sds_and_variances_apart():
    priors = design_spec(_radon(), DESIGNS["balanced"]).priors
    scaled = scale_priors(priors, DESIGNS["prior-scales"].prior_scales)
    assert scaled.beta.sigma == pytest.approx(0.2 * priors.beta.sigma)
    assert scaled.gamma.sigma == pytest.approx(5 * priors.gamma.sigma)
    assert scaled.sigma_alpha.beta == pytest.approx(0.04 * priors.sigma_alpha.beta)
    assert scaled.sigma_y.beta == pytest.approx(25 * priors.sigma_y.beta)


def test_sized_design_refuses_nonsense():
    assert sized_design([1, 2, 5, 20]).sizes == (1, 2, 5, 20)
    with pytest.raises(ValueError, match="group sizes"):
        sized_design([-1, 3])


def test_stress_settings_are_scoped_and_change_only_corrections():
    assert current() == Tuning()
    with tuned("poor-proposals") as t:
        assert current() is t and t.proposals == 2
    assert current() == Tuning()
    spec = design_spec(_radon(), DESIGNS["unbalanced"])
    # The marginal scheme's i-SIR step reads the proposal settings; the blocked scheme has none.
    assert changes_draws(spec, spec.schemes()["marginal"], "poor-proposals")
    assert not changes_draws(spec, spec.schemes()["blocked"], "poor-proposals")
    with pytest.raises(ValueError, match="unknown stress"):
        with tuned("nope"):
            pass
    assert set(STRESS) == {"poor-proposals", "narrow-slices", "wide-slices"}


SMALL = {"chains": 100, "iterations": 300}


def test_geweke_designs_pass_the_correct_sampler():
    spec = _radon()
    result = geweke_designs(spec, spec.schemes()["marginal"], designs=("unbalanced",), **SMALL)
    assert result.passed, result.table
    assert ("unbalanced", "poor-proposals") in result.table.index


def test_unweighted_isir_fails_under_poor_proposals():
    # Negative control of the stress setting: the i-SIR step without its importance weights.
    spec = _radon()
    bug, sweep = mutants_for(spec)["isir_unweighted"]
    result = geweke_designs(spec, sweep, designs=("unbalanced",), **SMALL)
    assert not result.table.loc[("unbalanced", "poor-proposals"), "passed"], result.table


# Slips exact on 6 balanced groups of 3 Bernoulli rows at unit prior scale, and the design that
# exposes each.
HIDDEN_SLIPS = [
    ("gaussian", "alpha_mean_group_size", "unbalanced"),
    ("gaussian", "beta_prior_sd_as_variance", "prior-scales"),
    ("logistic", "pg_one_trial", "trials"),
]


@pytest.mark.parametrize(("family", "mutant", "design"), HIDDEN_SLIPS)
def test_a_design_exposes_what_the_balanced_one_hides(family, mutant, design):
    # Each bug is exact on 6 balanced groups of 3 Bernoulli rows at unit prior scale (the old
    # default design) and plain on the design that breaks its symmetry. The Gaussian mutants
    # replace blocks of the slowly mixing component-wise sweep: Geweke's full length.
    spec = _radon(family)
    if mutant == "beta_prior_sd_as_variance":  # unit-scale locations: the slip is exact there
        unit = scale_priors(design_spec(spec, DESIGNS["balanced"]).priors, (0.5, 1, 1, 1))
        spec = spec.replace(priors=unit)
    sweep = mutants_for(spec)[mutant][1]
    settings = {} if family == "gaussian" else SMALL
    easy = geweke_designs(spec, sweep, designs=("balanced",), stress=False, **settings)
    hard = geweke_designs(spec, sweep, designs=(design,), stress=False, **settings)
    assert easy.passed, easy.table
    assert not hard.passed, hard.table


@pytest.mark.parametrize(("family", "mutant", "design"), HIDDEN_SLIPS)
def test_exact_here_tells_a_hidden_slip_from_an_exposed_one(family, mutant, design):
    # The same three slips: found exact (same draws as the base scheme) where the balanced
    # design hides them, and not exact on the design that exposes them (the negative control).
    from validation.inertness import base_scheme, exact_here

    spec = _radon(family)
    easy = design_spec(spec, DESIGNS["balanced"], seed=1)
    if mutant == "beta_prior_sd_as_variance":
        easy = easy.replace(priors=scale_priors(easy.priors, (0.5, 1, 1, 1)))
    hard = design_spec(spec, DESIGNS[design], seed=1)
    sweep = mutants_for(spec)[mutant][1]
    assert base_scheme(spec, sweep) is not None
    assert exact_here(easy, sweep)
    assert not exact_here(hard, sweep)
