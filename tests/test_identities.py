"""Conditional identities: every correct scheme satisfies them; draws that are not joint fail.

Each check is a z-test in Monte Carlo standard errors at the level compare uses (Bonferroni over
the statistics of one run); the negative controls are broken samplers whose marginals stay
right (a stale block, relabelled groups) or move by less than a posterior comparison resolves
(one degree of freedom too few).
"""

import numpy as np
import pytest

import gibbs
from gibbs.datasets import load_radon, simulate_hierarchical
from gibbs.kernels import FAMILY_SCHEMES
from gibbs.kernels.marginal import marginal_sweep
from gibbs.priors import UniformSigma, conjugate_inverse_gamma
from gibbs.sampling import sample_sweep
from gibbs.spec import specify
from validation.identities import conditional_identities

LEVEL = 0.001  # what compare uses at its default level of 0.01
KW = {"draws": 2000, "tune": 500, "chains": 4, "progressbar": False, "log_likelihood": False}


@pytest.fixture(scope="module")
def radon():
    return load_radon()


@pytest.mark.parametrize("scheme", sorted(FAMILY_SCHEMES["gaussian"]))
def test_every_scheme_satisfies_the_identities_on_radon(radon, scheme):
    idata = gibbs.sample(radon, scheme=scheme, seed=11, **KW)
    check = conditional_identities(idata, specify(radon), LEVEL)
    assert check is not None and len(check.rows) == 7
    assert check.passed, check.rows.to_string()


def test_identities_hold_without_predictors():
    # Radon M0 (no X): compare on it crashed in the identities before (an empty stack).
    data = load_radon(floor=False, uranium=False)
    idata = gibbs.sample(data, seed=11, **KW)
    check = conditional_identities(idata, specify(data), LEVEL)
    assert check is not None and len(check.rows) == 6  # no beta
    assert check.passed, check.rows.to_string()


def test_identities_hold_under_proper_priors_on_an_unbalanced_design():
    # Normal location priors and inverse-gamma scales exercise the other conditionals; groups of
    # 0, 1 and 2 rows the terms in n_j.
    sizes = np.tile([0, 1, 2, 5, 12], 6)
    data, _ = simulate_hierarchical(len(sizes), sizes, seed=4)
    priors = conjugate_inverse_gamma()
    idata = gibbs.sample(data, priors=priors, seed=5, **KW)
    check = conditional_identities(idata, specify(data, priors=priors), LEVEL)
    assert check is not None and len(check.rows) == 7
    assert check.passed, check.rows.to_string()


def _stale_alpha(streams, state, model):
    """The fully collapsed sweep, but it hands out the alpha it drew one iteration before."""
    new = marginal_sweep(streams, state, model)
    previous = streams.scratch.get("previous_alpha", state.alpha)
    streams.scratch["previous_alpha"] = new.alpha
    return new._replace(alpha=previous)


def test_a_stale_block_fails_though_its_marginals_are_right(radon):
    # Every stored alpha is a posterior draw; it is only one iteration behind the rest.
    idata = sample_sweep(radon, (_stale_alpha,), "stale", seed=11, **KW)
    check = conditional_identities(idata, specify(radon), LEVEL)
    assert not check.passed
    assert "alpha's conditional" in check.line()
    # ... which a comparison of marginals with the correct sampler does not see.
    from validation.compare import compare_posteriors

    correct = gibbs.sample(radon, seed=12, **KW)
    assert compare_posteriors(idata, correct).verdict == "agree"


def test_relabelled_groups_fail(radon):
    idata = gibbs.sample(radon, seed=11, **KW)
    post = idata.posterior
    alpha = post["alpha"].values
    post["alpha"].values = np.roll(alpha, 1, axis=-1)  # county j's draws under county j+1's name
    check = conditional_identities(idata, specify(radon), LEVEL)
    assert not check.passed and "alpha's conditional" in check.line()


def test_a_statistic_without_monte_carlo_error_fails_rather_than_crashes(radon):
    # A broken varying-slopes kernel once made a statistic the same at every draw: ArviZ's MCSE
    # of it is exactly 0 and the z-score was a ZeroDivisionError that ended compare with a
    # traceback. Here alpha far from its conditional: no group ever has |r_j| < 1.
    idata = gibbs.sample(radon, seed=11, **KW)
    idata.posterior["alpha"].values = idata.posterior["alpha"].values + 1e3
    check = conditional_identities(idata, specify(radon), LEVEL)
    assert (
        not check.passed and "share of groups with |r_j| < 1" in check.failed["statistic"].str.cat()
    )


def test_a_degree_of_freedom_too_few_fails(radon, monkeypatch):
    # sigma^2 = SS / chi^2_m instead of chi^2_{m-1}: 85 groups, sigma_alpha moves by about 1%.
    monkeypatch.setattr(UniformSigma, "variance_shape", lambda self, m: m / 2.0)
    idata = gibbs.sample(radon, scheme="blocked", seed=11, **KW)
    check = conditional_identities(idata, specify(radon), LEVEL)
    assert not check.passed and "sigma_alpha's conditional" in check.line()


def test_configurations_without_closed_form_conditionals_are_not_checked(radon):
    idata = gibbs.sample(radon, seed=11, **KW)
    # The varying-intercept draws do not fit the varying-slopes model: not checked, not failed.
    assert conditional_identities(idata, specify(radon, slopes=["floor"]), LEVEL) is None
    assert conditional_identities(idata.posterior.drop_vars("alpha"), specify(radon)) is None
    factors = specify(radon.replace(y=radon.y), factors={"floor": radon.X[:, 0]})
    assert conditional_identities(idata, factors, LEVEL) is None


M3 = {"draws": 1500, "tune": 500, "chains": 4, "progressbar": False, "log_likelihood": False}


def _stale_slopes(streams, state, model):
    """The default varying-slopes sweep, handing out the alpha it drew one iteration before."""
    from gibbs.slopes import DEFAULT_SLOPES_SCHEME, SLOPES_SCHEMES

    new = state
    for block in SLOPES_SCHEMES[DEFAULT_SLOPES_SCHEME]:
        new = block(streams, new, model)
    previous = streams.scratch.get("previous_alpha", state.alpha)
    streams.scratch["previous_alpha"] = new.alpha
    return new._replace(alpha=previous)


def test_varying_slopes_satisfy_the_identities_and_a_stale_block_fails(radon):
    spec = specify(radon, slopes=["floor"])
    idata = gibbs.sample(radon, slopes=["floor"], seed=13, **M3)
    check = conditional_identities(idata, spec, LEVEL)
    assert check is not None and len(check.rows) == 5  # with (gamma, gamma_slope) given alpha
    assert check.passed, check.rows.to_string()
    stale = sample_sweep(radon, (_stale_slopes,), "stale", slopes=["floor"], seed=13, **M3)
    check = conditional_identities(stale, spec, LEVEL)
    assert not check.passed and "alpha" in check.line()


def test_compare_disagrees_when_the_identities_fail(radon):
    # The wiring of compare and verify: same marginals, broken joint draws, verdict "disagree".
    from validation.verify import compare_lengthened

    spec = specify(radon)
    reference = gibbs.sample(radon, seed=21, **{**KW, "draws": 4000})
    names = ["alpha", "beta", "gamma", "sigma_y", "sigma_alpha"]

    def run_with(sweep):
        def run(draws):
            return sample_sweep(radon, sweep, "under test", seed=22, **{**KW, "draws": draws})

        return compare_lengthened(
            run,
            reference,
            names,
            max_draws=2000,
            identities=lambda idata: conditional_identities(idata, spec, LEVEL),
        )[0]

    broken = run_with((_stale_alpha,))
    assert broken.verdict == "disagree"
    assert broken.reasons[0].startswith("the stored draws break exact identities")
    correct = run_with((marginal_sweep,))
    assert correct.verdict == "agree", correct.reasons
    assert correct.settings["conditional_identities"].startswith("PASS")


# The group level's identities need no likelihood: every family gets them.
@pytest.fixture(scope="module")
def action_level():
    from gibbs.datasets import load_radon_action_level

    return load_radon_action_level()


@pytest.fixture(scope="module")
def police():
    from gibbs.police_stops import POLICE_STOPS_FORMULA, load_police_stops

    stops = load_police_stops(quiet=True)
    return POLICE_STOPS_FORMULA, stops.frame


@pytest.mark.parametrize(
    "family, slopes, rows",
    [("logistic", None, 2), ("probit", None, 2)],
)
def test_binomial_families_satisfy_the_group_level_identities(action_level, family, slopes, rows):
    spec = specify(action_level, family=family, slopes=slopes)
    idata = gibbs.sample(spec, seed=3, **KW)
    check = conditional_identities(idata, spec, LEVEL)
    assert check is not None and len(check.rows) == rows
    assert check.passed, check.rows.to_string()


def test_a_binomial_sigma_alpha_with_a_degree_of_freedom_too_few_fails(action_level, monkeypatch):
    # The blocked scheme draws sigma_alpha given alpha (the collapsed one integrates alpha out).
    monkeypatch.setattr(UniformSigma, "variance_shape", lambda self, m: m / 2.0)
    spec = specify(action_level, family="logistic")
    idata = gibbs.sample(spec, scheme="blocked", seed=3, **KW)
    check = conditional_identities(idata, spec, LEVEL)
    assert not check.passed and "sigma_alpha's conditional" in check.line()


def test_binomial_mean_slopes_hold_and_fail_when_handed_out_one_iteration_late(action_level):
    spec = specify(action_level, family="logistic", slopes=["floor"])
    idata = gibbs.sample(spec, seed=3, **KW)
    check = conditional_identities(idata, spec, LEVEL)
    assert check is not None and len(check.rows) == 1  # (gamma, gamma_slope) given alpha, Sigma
    assert check.passed, check.rows.to_string()
    post = idata.posterior
    post["gamma_slope"].values = np.roll(post["gamma_slope"].values, 1, axis=1)
    check = conditional_identities(idata, spec, LEVEL)
    assert not check.passed and "gamma_slope" in check.line()


@pytest.mark.parametrize("family", ["poisson", "negative_binomial"])
def test_count_families_satisfy_the_group_level_identities(police, family):
    # gamma, and sigma_alpha and sigma_eth under their half-normal priors (a GIG conditional).
    formula, frame = police
    spec = specify(formula, data=frame, family=family)
    idata = gibbs.sample(spec, seed=5, **KW)
    check = conditional_identities(idata, spec, LEVEL)
    assert check is not None and len(check.rows) == 3
    assert check.passed, check.rows.to_string()
    # A gamma handed out one iteration late: its marginal is right, its joint draws are not.
    post = idata.posterior
    post["gamma"].values = np.roll(post["gamma"].values, 1, axis=1)
    check = conditional_identities(idata, spec, LEVEL)
    assert not check.passed and "gamma's conditional" in check.line()


@pytest.mark.parametrize("nested", [True, False])
def test_factors_satisfy_the_identities_and_relabelled_effects_fail(nested):
    from gibbs.datasets import simulate_factors

    data, factors, _ = simulate_factors(nested=nested, seed=2)
    spec = specify(data, factors=factors)
    idata = gibbs.sample(spec, seed=4, **KW)
    check = conditional_identities(idata, spec, LEVEL)
    assert check is not None and len(check.rows) == 11
    assert check.passed, check.rows.to_string()
    post = idata.posterior
    post["h_effect"].values = np.roll(post["h_effect"].values, 1, axis=-1)
    check = conditional_identities(idata, spec, LEVEL)
    assert (
        not check.passed
        and "h_effect's conditional" in check.rows.loc[check.failed.index, "statistic"].str.cat()
    )


def test_a_factor_scale_with_a_degree_of_freedom_too_few_fails(monkeypatch):
    from gibbs.datasets import simulate_factors

    monkeypatch.setattr(UniformSigma, "variance_shape", lambda self, m: m / 2.0)
    data, factors, _ = simulate_factors(nested=True, seed=2)
    spec = specify(data, factors=factors)
    check = conditional_identities(gibbs.sample(spec, seed=4, **KW), spec, LEVEL)
    assert not check.passed and "sigma_h's conditional" in check.line()
