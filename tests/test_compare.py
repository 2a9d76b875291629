"""compare_posteriors on constructed posteriors: it agrees, disagrees and refuses as it should."""

import numpy as np
import pytest
import xarray as xr

from validation.compare import compare_posteriors, holm_reject


def _ar1(rng, chains, draws, rho=0.5, shape=()):
    x = np.empty((chains, draws, *shape))
    x[:, 0] = rng.standard_normal((chains, *shape))
    for t in range(1, draws):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * rng.standard_normal((chains, *shape))
    return x


def _posterior(seed, shift=0.0, scale=1.0, draws=2000, chains=4, rho=0.5):
    rng = np.random.default_rng(seed)
    return xr.Dataset(
        {
            "mu": (("chain", "draw"), shift + scale * _ar1(rng, chains, draws, rho)),
            "theta": (("chain", "draw", "k"), _ar1(rng, chains, draws, rho, (3,))),
        },
        coords={"chain": np.arange(chains), "draw": np.arange(draws), "k": ["a", "b", "c"]},
    )


def test_same_target_agrees():
    c = compare_posteriors(_posterior(1), _posterior(2))
    assert c.verdict == "agree", str(c)
    assert len(c.table) == 4 and "theta[b]" in c.table.index
    assert c.table["rhat_cross"].max() < 1.01


def test_shifted_mean_disagrees_and_names_parameter():
    c = compare_posteriors(_posterior(1), _posterior(2, shift=0.15))
    assert c.verdict == "disagree"
    assert c.failing().index.tolist() == ["mu"]
    assert "mu" in c.reasons[0]


def test_wrong_scale_disagrees_through_sd():
    c = compare_posteriors(_posterior(1), _posterior(2, scale=1.15))
    assert c.verdict == "disagree"
    assert c.table.loc["mu", "reject_sd"]


def test_mismatched_inputs_are_inconclusive():
    a, b = _posterior(1), _posterior(2)
    c = compare_posteriors(a, b.drop_vars("mu"))
    assert c.verdict == "inconclusive" and "mu missing from b" in c.reasons[0]
    c = compare_posteriors(a, b.isel(k=slice(0, 2)))
    assert c.verdict == "inconclusive" and "shape" in c.reasons[0]
    c = compare_posteriors(a, b.isel(draw=slice(0, 50)))
    assert c.verdict == "inconclusive" and "draws per chain" in c.reasons[0]


def test_poorly_mixing_sampler_is_inconclusive_not_pass():
    c = compare_posteriors(_posterior(1), _posterior(2, rho=0.995))
    assert c.verdict == "inconclusive"
    assert any("ESS" in r for r in c.reasons)


def _lengthened(run_rho, ref_rho, stuck=False):
    from types import SimpleNamespace

    from validation.verify import compare_lengthened

    def run(draws):
        post = _posterior(3, draws=draws, rho=run_rho)
        if stuck:
            post["mu"] = post["mu"] * 0.0 + 0.5
        return SimpleNamespace(posterior=post)

    reference = SimpleNamespace(posterior=_posterior(4, draws=4000, rho=ref_rho))
    names = ["mu", "theta"]
    return compare_lengthened(run, reference, names, max_draws=2000, labels=("gibbs", "nuts"))


def test_a_run_under_test_that_does_not_converge_disagrees_against_a_usable_reference():
    # The rule: inconclusive only for an unusable reference. A sampler under test whose
    # own chains fail R-hat/ESS at the longest run allowed is what failed.
    c, used = _lengthened(run_rho=0.995, ref_rho=0.5)
    assert used == 2000 and c.verdict == "disagree", c.reasons
    assert c.reasons[0].startswith("the sampler under test fails on its own at 2000 draws")
    assert "ESS" in c.reasons[0]
    c, _ = _lengthened(run_rho=0.5, ref_rho=0.5, stuck=True)
    assert c.verdict == "disagree" and "the draws of mu do not move" in c.reasons[0]
    # Negative controls: a mixing run agrees; an unusable reference stays inconclusive.
    assert _lengthened(run_rho=0.5, ref_rho=0.5)[0].verdict == "agree"
    c, _ = _lengthened(run_rho=0.995, ref_rho=0.995)
    assert c.verdict == "inconclusive" and any(r.startswith("nuts:") for r in c.reasons)


def _nuts_fit(rho, diverging=0):
    """A fake fit(draws): AR(1) chains (ESS about draws (1 - rho) / (1 + rho) per chain)."""
    from types import SimpleNamespace

    calls = []

    def fit(draws):
        calls.append(draws)
        stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((4, draws), bool))})
        stats["diverging"][0, :diverging] = True
        return SimpleNamespace(posterior=_posterior(5, draws=draws, rho=rho), sample_stats=stats)

    return fit, calls


def test_a_short_fresh_reference_is_lengthened_once_and_a_divergent_one_is_not():
    from validation.verify import fit_reference_lengthened, reference_problems

    # ESS about 4 x 1000 x 0.1 / 1.9 = 210 at 1000 draws: unusable; 4 x longer (not the cap of
    # 8 x) is what it needs.
    fit, calls = _nuts_fit(rho=0.9)
    ref, draws = fit_reference_lengthened(fit, ["mu", "theta"], draws=1000, max_draws=8000)
    assert calls == [1000, draws] and draws == 4000
    assert reference_problems(ref, ["mu", "theta"]) == []
    # Negative controls: a usable reference is fitted once; divergences are not lengthened away;
    # the cap holds.
    fit, calls = _nuts_fit(rho=0.5)
    assert fit_reference_lengthened(fit, ["mu"], draws=1000)[1] == 1000 and calls == [1000]
    fit, calls = _nuts_fit(rho=0.9, diverging=3)
    assert fit_reference_lengthened(fit, ["mu"], draws=1000)[1] == 1000 and calls == [1000]
    fit, calls = _nuts_fit(rho=0.9)
    assert fit_reference_lengthened(fit, ["mu"], draws=1000, max_draws=1000)[1] == 1000


def test_holm_against_hand_computed_example():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted: 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2 -> stop
    np.testing.assert_array_equal(holm_reject(p, 0.05), [True, False, False, True])
    assert not holm_reject(np.array([0.2, 0.3]), 0.05).any()


@pytest.mark.parametrize("seed", range(3))
def test_false_alarm_is_rare_for_identical_targets(seed):
    c = compare_posteriors(_posterior(10 + seed), _posterior(20 + seed))
    assert c.verdict == "agree"


def test_copied_chains_are_reported_not_compared():
    # Chains that are copies of each other make every MCSE too small by sqrt(copies).
    import gibbs
    from gibbs.datasets import load_radon
    from validation.compare import compare_posteriors

    data = load_radon()
    kw = {"draws": 200, "tune": 200, "progressbar": False, "log_likelihood": False}
    copies = gibbs.sample(data, seed=[1, 1, 2, 3], **kw)
    fresh = gibbs.sample(data, seed=5, **kw)
    c = compare_posteriors(copies, fresh, labels=("gibbs", "nuts"))
    assert c.verdict == "inconclusive" and "chains 0 and 1 are identical" in c.reasons[0]
    assert "identical" not in " ".join(
        compare_posteriors(fresh, copies.isel(chain=[0, 2, 3])).reasons
    )


def _ar1_columns(rho, columns, seed, chains=4, draws=1000):
    """Many independent AR(1) scalars with N(0, 1) marginals, one per column ``v[j]``."""
    x = _ar1(np.random.default_rng(seed), chains, draws, rho, (columns,))
    return xr.Dataset({"v": (("chain", "draw", "k"), x)})


def test_batch_mcse_z_scores_follow_their_t_and_not_the_normal():
    """The z-score of each statistic against the known truth, over 2,000 independent AR(1) runs
    of 4 x 1000 at rho = 0.8 (ESS about 440, the reference's lower limit): with the batch-means
    MCSE and its degrees of freedom (about 7 here), the t rejects at most the stated 1% plus 3
    binomial sd, the mean and sd at least 1% minus 3 sd. Negative control: the same z-scores
    against the normal reject over twice as often (observed 3-4%), the false alarms that the
    t removes."""
    import pandas as pd
    from scipy import stats

    from validation.batch_mcse import batch_mcse

    rho, reps, alpha = 0.8, 2000, 0.01
    post = _ar1_columns(rho, reps, seed=3)
    tau = (1 + rho) / (1 - rho)  # the AR(1)'s integrated autocorrelation time
    bm = batch_mcse(post, pd.Series(4000 / tau, index=[f"v[{j}]" for j in range(reps)]))
    y = post["v"].values.reshape(4000, reps)
    estimates = {
        "mean": (y.mean(0), 0.0),
        "sd": (y.std(0, ddof=1), 1.0),
        "q05": (np.quantile(y, 0.05, axis=0), stats.norm.ppf(0.05)),
        "q95": (np.quantile(y, 0.95, axis=0), stats.norm.ppf(0.95)),
    }
    slack = 3 * np.sqrt(alpha * (1 - alpha) / reps)
    for stat, (est, truth) in estimates.items():
        z = np.abs(est - truth) / bm[f"mcse_{stat}"].to_numpy()
        with_t = np.mean(2 * stats.t.sf(z, bm[f"nu_{stat}"].to_numpy()) < alpha)
        with_normal = np.mean(2 * stats.norm.sf(z) < alpha)
        assert with_t <= alpha + slack, (stat, with_t)
        if stat in ("mean", "sd"):  # the quantiles' t is conservative at so few batches
            assert with_t >= alpha - slack, (stat, with_t)
        assert with_normal > 2 * alpha, (stat, with_normal)


def test_decide_uses_the_welch_satterthwaite_t():
    """A z of 3 on MCSEs with 4 and 6 degrees of freedom is no evidence at 1% (t, p ~ 0.02),
    while with an infinite count (a stored golden's MCSE) the same z is the normal's p ~ 0.0027."""
    import pandas as pd

    from validation.compare import decide, satterthwaite

    def summary(mean, nu):
        row = {s: mean for s in ("mean", "sd", "q05", "q95")}
        row |= {f"mcse_{s}": 1 / np.sqrt(2) for s in ("mean", "sd", "q05", "q95")}
        row |= {"ess_bulk": 1e4, "ess_tail": 1e4, "r_hat": 1.0}
        if nu is not None:
            row |= {f"nu_{s}": nu for s in ("mean", "sd", "q05", "q95")}
        return pd.DataFrame([row], index=["x"])

    kw = dict(labels=("a", "b"), level=0.01, max_rhat=1.01, min_ess=400)
    few = decide(summary(3.0, 4.0), summary(0.0, 6.0), **kw)
    assert few.table.loc["x", "nu_mean"] == pytest.approx(satterthwaite(0.5, 4.0, 0.5, 6.0))
    assert few.table.loc["x", "nu_mean"] == pytest.approx(1 / (0.25 / 4 + 0.25 / 6))
    assert few.table.loc["x", "z_mean"] == pytest.approx(3.0)
    assert 0.01 < few.table.loc["x", "p_mean"] < 0.05
    golden = decide(summary(3.0, None), summary(0.0, None), **kw)
    assert golden.table.loc["x", "p_mean"] == pytest.approx(0.0027, abs=1e-4)


def test_default_leaves_out_the_references_auxiliary_variables():
    # A non-centered twin carries alpha_z, which the Gibbs output has not: by default the
    # variables of the sampler under test are compared.
    rng = np.random.default_rng(5)
    twin = _posterior(2).assign(alpha_z=(("chain", "draw"), rng.standard_normal((4, 2000))))
    c = compare_posteriors(_posterior(1), twin)
    assert c.verdict == "agree", str(c)
    assert "alpha_z" not in " ".join(c.table.index)
    # Negative control: a variable of the sampler under test that the reference lacks is
    # still a reason not to decide.
    c = compare_posteriors(twin, _posterior(1))
    assert c.verdict == "inconclusive" and "alpha_z missing" in c.reasons[0]


def test_report_numbers_keep_a_decimal_where_four_digits_would_round_it_away():
    from validation.report import number

    # Two LOO elpds that .4g would print alike.
    assert number(-1064.74) == "-1064.7" and number(-1065.21) == "-1065.2"
    assert number(0.001234) == "0.001234" and number(3.14159) == "3.142"


def test_report_page_leads_with_the_verdict_and_the_worst_parameters(tmp_path):
    import arviz as az

    from validation.report import write_report

    a, b = _posterior(1), _posterior(2, shift=0.15)
    c = compare_posteriors(a, b, labels=("gibbs", "nuts"))
    page = write_report(
        tmp_path,
        title="t",
        settings={"dataset": "constructed", "draws": 2000, "nested": {"k": 1}},
        comparison=c,
        idatas={"gibbs": az.convert_to_inference_data(a)},
        tables={},
        figures=[],
        numbers={},
    ).read_text()
    assert page.index("Verdict: DISAGREE") < page.index("largest |z|") < page.index("<details")
    assert "QQ plot of the z-scores" in page and "traces and rank histograms" in page
    assert "onclick='sortTable(this)'" in page and 'id="all-parameters"' in page
    assert "<th>draws</th><td>2000</td>" in page and "{&quot;k&quot;: 1}" in page
