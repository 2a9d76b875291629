"""The exact reference posteriors: reproducible from the code, consistent with NUTS, and what the
default sampler must agree with (and a broken sampler must not)."""

import numpy as np
import pytest

import gibbs
from gibbs.sampling import sample_sweep
from reference_models.exact import exact_posterior
from tests.stat_checks import assert_same_quadrature
from tests.tiers import tiered
from validation.build_exact import EXACT, load_exact
from validation.build_goldens import GOLDENS, load_golden
from validation.compare import compare_posteriors, decide
from validation.golden import check_data
from validation.mutants import mutants_for

NAMES = ["alpha", "beta", "gamma", "sigma_y", "sigma_alpha"]


def _names(name):
    return [v for v in NAMES if v in load_exact(name).var_names]


@pytest.fixture
def case(request, radon_dir):
    """(data, priors) of a shipped exact reference; posteriordb's need the survey files."""
    make, priors, _ = EXACT[request.param]
    return make(radon_dir if request.param.startswith("radon_mn-") else None), priors()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXACT))
def test_shipped_reference_is_what_the_code_computes(name, radon_dir):
    make, priors, description = EXACT[name]
    data = make(radon_dir)
    shipped = load_exact(name)
    check_data(shipped, data, name=name)
    assert_same_quadrature(
        exact_posterior(data, priors(), description=description).summary, shipped
    )


@pytest.mark.parametrize("name", sorted(set(EXACT) & set(GOLDENS)))
def test_nuts_golden_agrees_with_the_exact_reference(name):
    """posteriordb-style NUTS references (8 x 5000 nutpie) against the exact moments."""
    exact = load_exact(name)
    golden = load_golden(name, GOLDENS[name].case())
    rows = golden.summary_for(_names(name)).index
    table = decide(
        golden.summary.loc[rows],
        exact.summary.loc[rows].reindex(columns=golden.summary.columns),
        labels=("nuts", "exact"),
        level=0.01,
        max_rhat=1.01,
        min_ess=400,
        check_diagnostics=(True, False),
    )
    assert table.verdict == "agree", str(table)


@pytest.mark.parametrize(
    "case",
    tiered(sorted(EXACT), {"radon_M2", "radon_mn-radon_hierarchical_intercept"}),
    indirect=True,
)
def test_default_sampler_agrees_with_the_exact_reference(case, request):
    name = request.node.callspec.params["case"]
    data, priors = case
    check_data(load_exact(name), data, name=name)
    idata = gibbs.sample(data, priors=priors, seed=3, progressbar=False, log_likelihood=False)
    c = compare_posteriors(idata, load_exact(name), _names(name), labels=("gibbs", "exact"))
    assert c.verdict == "agree", str(c)


def test_a_broken_marginal_sampler_disagrees_with_the_exact_reference():
    """Negative control: the marginal scheme without log |Q| in its scale density."""
    data = EXACT["radon_M2"][0]()
    broken = mutants_for("gaussian")["marginal_without_log_det"]
    idata = sample_sweep(data, broken.sweep, "broken", seed=3, progressbar=False)
    c = compare_posteriors(idata, load_exact("radon_M2"), NAMES, labels=("broken", "exact"))
    assert c.verdict == "disagree", str(c)


def test_posteriordb_radon_mn_is_arms_houses_in_its_own_preparation(radon_dir):
    from gibbs.datasets import load_radon
    from gibbs.posteriordb import load_radon_mn, radon_mn_frame

    frame = radon_mn_frame(radon_dir)
    assert len(frame) == 919 and frame["county"].nunique() == 85
    # The same houses as ARM's Minnesota subset: ARM logs max(activity, 0.1), posteriordb
    # activity + 0.1.
    activity = np.exp(frame["log_radon"].to_numpy()) - 0.1
    arm = np.exp(load_radon().y)
    np.testing.assert_allclose(np.sort(np.maximum(activity, 0.1)), np.sort(arm), rtol=1e-9)
    assert not np.allclose(np.sort(frame["log_radon"]), np.sort(load_radon().y))
    data = load_radon_mn("radon_hierarchical_intercept", radon_dir)
    assert data.x_names == ("floor_measure",) and data.u_names == ("intercept", "log_uppm")
    with pytest.raises(ValueError, match="unknown posteriordb radon model"):
        load_radon_mn("radon_pooled", radon_dir)


def test_compare_takes_the_exact_posterior_where_the_model_has_one():
    # compare's default reference: computed in seconds for the Gaussian varying-intercept
    # model under any priors; none for other families and structures, or unidentified scales.
    from gibbs.datasets import load_radon, load_radon_action_level, simulate_hierarchical
    from gibbs.priors import PRESETS
    from gibbs.spec import specify
    from validation.verify import exact_for

    radon = load_radon()
    ref = exact_for(specify(radon, priors=PRESETS["inverse-gamma"]()))
    assert ref is not None and ref.provenance["convergence"]["max_change_over_sd"] < 1e-3
    assert "InverseGamma" in ref.provenance["priors"]
    assert exact_for(specify(load_radon_action_level(), family="logistic")) is None
    assert exact_for(specify(radon, slopes=["floor"])) is None
    one_row_groups, _ = simulate_hierarchical(20, 1, seed=0)  # sigma_y and sigma_alpha confounded
    assert exact_for(specify(one_row_groups)) is None


def test_the_exact_reference_shares_no_prior_density_with_the_sampler(monkeypatch):
    # A slip in gibbs.priors' density (here the uniform prior on a scale read as uniform on its
    # log) moves the fully collapsed sampler, but not the reference, whose densities are
    # scipy's: so compare against it sees the slip.
    import numpy as np

    from gibbs.priors import UniformSigma
    from gibbs.spec import specify
    from validation.verify import exact_for

    data = EXACT["radon_M2"][0]()
    truth = exact_for(specify(data)).summary
    monkeypatch.setattr(UniformSigma, "logpdf", lambda self, sigma, aux=None: -np.log(sigma))
    moved = exact_for(specify(data)).summary
    # Only the box's placement (the sampler's Laplace fit) moved: every summary stays within
    # the reference's own stated error (its change between grids).
    for stat in ("mean", "sd", "q05", "q95"):
        assert ((moved[stat] - truth[stat]).abs() < truth[f"mcse_{stat}"]).all(), stat
    from validation.verify import compare_lengthened

    def run(draws):
        return gibbs.sample(data, seed=3, draws=draws, progressbar=False, log_likelihood=False)

    c, _ = compare_lengthened(run, moved_ref := exact_for(specify(data)), NAMES, max_draws=4000)
    assert moved_ref is not None and c.verdict == "disagree", str(c)
    assert any("differ beyond the family-wise level" in r for r in c.reasons)
