import json

import pytest

from validation.cli import build_parser, load_spec, main


def test_data_summary_prints_radon(capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "rows           919" in out and "85 county" in out


def test_data_json(capsys):
    assert main(["data", "--json", "--model", "M0"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 919 and summary["individual_predictors"] == []


def test_data_radon_all(capsys, radon_dir):
    assert (
        main(["data", "--dataset", "radon-all", "--data-dir", str(radon_dir), "--states", "MN"])
        == 0
    )
    assert "rows" in capsys.readouterr().out


def test_bad_input_exits_2(capsys, tmp_path):
    assert main(["data", "--dataset", "radon-all", "--data-dir", str(tmp_path)]) == 2
    assert "Put srrs2.dat" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["data", "compare", "sbc", "geweke", "bench", "verify"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage: gibbs-suite" in capsys.readouterr().out


@pytest.mark.pymc
def test_compare_main_job_writes_report(tmp_path, capsys):
    # The main job as `make demo` runs it: against the exact posterior by quadrature (a fresh
    # nutpie reference, fit_reference(..., "nutpie"), runs in notebook 02; --reference nutpie
    # in make test-all).
    out = tmp_path / "report"
    code = main(["compare", "--out", str(out), "--seed", "2"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "verdict: AGREE" in text and "pooling baselines" in text
    assert "driver conformance: PASS (10 exact checks" in text
    assert "conditional identities: PASS (7 exact identities" in text
    assert "reference: exact posterior by quadrature" in text
    assert "lengthened to 4 chains x 16000 draws" in text  # the exact side has no MC error
    assert (out / "index.html").stat().st_size > 10_000
    results = json.loads((out / "results.json").read_text())
    assert results["comparison"]["verdict"] == "agree"
    assert len(results["comparison"]["parameters"]) == 90
    # The exact posterior is a stored summary: only the Gibbs posterior is written.
    assert {p.name for p in out.glob("*.nc")} == {"posterior_gibbs.nc"}


def _driver_mutant_names():
    from validation.driver_mutants import DRIVER_MUTANTS

    return sorted(DRIVER_MUTANTS)


def test_compare_driver_checks_pass_the_correct_driver():
    from validation.compare_job import _driver_conformance

    spec = load_spec(build_parser().parse_args(["compare"]))
    line, failed = _driver_conformance(spec, spec.default_scheme)
    assert not failed and line.startswith("PASS"), line


@pytest.mark.parametrize("mutant", _driver_mutant_names())
def test_compare_runs_the_driver_checks_a_posterior_cannot_make(mutant):
    """A driver slip fails compare's exact pre-check, whatever the posterior comparison says."""
    from validation.compare_job import _driver_conformance
    from validation.driver_mutants import driver_mutant

    with driver_mutant(mutant):  # the configuration is built under the slip, as compare does
        spec = load_spec(build_parser().parse_args(["compare"]))
        line, failed = _driver_conformance(spec, spec.default_scheme)
    assert failed and line.startswith("FAIL"), line


@pytest.mark.slow
def test_compare_fails_a_sampler_that_keeps_its_warmup(capsys):
    # Its posterior agrees with the golden (the warm-up is diluted in the lengthened run).
    from validation.driver_mutants import driver_mutant

    with driver_mutant("warmup_kept"):
        code = main(["compare", "--no-report", "--seed", "3"])
    text = capsys.readouterr().out
    assert code == 1, text
    assert "driver conformance failed: kept draws" in text


def test_compare_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--scheme", "plugin"])
    assert exc.value.code == 2


def test_bench_prints_ess_per_second(capsys):
    assert (
        main(
            ["bench", "--scheme", "collapsed", "--repeats", "1", "--draws", "300", "--tune", "100"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "gibbs:collapsed" in out and "ess_per_s" in out


@pytest.mark.slow
@pytest.mark.pymc
def test_compare_with_mutants_reports_every_mutant_caught(capsys):
    code = main(
        [
            "compare",
            "--dataset",
            "synthetic",
            "--groups",
            "12",
            "--group-size",
            "6",
            "--reference",
            "nutpie",
            "--no-report",
            "--quiet",
            "--mutants",
            "--draws",
            "2000",
        ]
    )
    out = capsys.readouterr().out
    assert "mutant catalogue" in out
    for name in ("plugin_variance", "df_off_by_one", "misindexed_groups"):
        assert name in out
    # 12 balanced groups under flat priors: two slips are exact here, and said to be.
    assert "exact on this data, so no comparison can flag them: alpha_mean_group_size" in out
    assert code == 0, out


def test_geweke_command_passes_correct_and_fails_mutant(tmp_path, capsys):
    assert main(["geweke", "--iterations", "300", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "geweke.json").read_text())["passed"] is True
    # Long work shows progress (burn-in 50 + 300 iterations), unless --quiet.
    assert "Geweke (successive-conditional, 200 chains): 350/350" in capsys.readouterr().err
    assert (
        main(
            [
                "geweke",
                "--iterations",
                "300",
                "--mutant",
                "df_off_by_one",
                "--out",
                str(tmp_path),
                "--quiet",
            ]
        )
        == 1
    )
    captured = capsys.readouterr()
    assert "FAIL" in captured.out and "successive-conditional" not in captured.err


def test_data_summary_of_the_binary_outcome(capsys):
    assert main(["data", "--family", "logistic"]) == 0
    out = capsys.readouterr().out
    assert "outcome        above_action_level" in out
    assert "406 of 919 trials (44.2%); 8 groups with only failures, 10 with only successes" in out


def test_separation_data_needs_a_binomial_family(capsys):
    assert main(["data", "--dataset", "separation"]) == 2
    assert "needs --family logistic or probit" in capsys.readouterr().err


@pytest.mark.slow  # 23 s: the CLI's Gaussian geweke and sbc runs stay in the default tier
def test_binomial_geweke_and_sbc_commands_use_calibration_priors(tmp_path, capsys):
    assert (
        main(["geweke", "--family", "probit", "--iterations", "300", "--out", str(tmp_path)]) == 0
    )
    out = capsys.readouterr().out
    assert "family probit" in out and "InverseGamma(alpha=3.0, beta=2.0)" in out
    assert (
        main(
            [
                "geweke",
                "--family",
                "logistic",
                "--mutant",
                "pg_double_shape",
                "--out",
                str(tmp_path),
            ]
        )
        == 1
    )
    assert main(["geweke", "--family", "logistic", "--scheme", "interweaving"]) == 2
    assert "does not exist for the logistic family" in capsys.readouterr().err
    sbc = ["sbc", "--family", "logistic", "--replications", "20", "--out", str(tmp_path / "s")]
    assert main([*sbc, "--quiet"]) == 0
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert summary["replications"] == 20
    assert "sigma_y" not in {t["quantity"] for t in summary["tests"]}


def test_geweke_on_a_design_and_on_group_sizes(tmp_path, capsys):
    args = ["geweke", "--iterations", "200", "--chains", "100", "--out", str(tmp_path)]
    assert main([*args, "--group-sizes", "1,2,5,20"]) == 0
    assert "design 1,2,5,20 (28 rows, 4 groups)" in capsys.readouterr().out
    assert main([*args, "--design", "unbalanced"]) == 0
    assert main([*args, "--group-sizes", "1,x"]) == 2
    assert "--group-sizes takes integers" in capsys.readouterr().err


def test_quiet_silences_pymc_logs_and_warnings_and_restores_them(caplog):
    import logging
    import warnings

    from gibbs.convergence import ConvergenceWarning
    from validation.cli import _quiet

    pymc_log = logging.getLogger("pymc")
    before = pymc_log.level

    def noise():
        pymc_log.info("Auto-assigning NUTS sampler...")
        warnings.warn("not converged", ConvergenceWarning, stacklevel=1)
        warnings.warn_explicit("deprecated", FutureWarning, "arviz/x.py", 1, module="arviz.x")

    with caplog.at_level(logging.INFO, logger="pymc"), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with _quiet(True):
            noise()
            # The suite's own notice of a repaired run folder stays.
            warnings.warn("replication_00001.nc is unreadable", RuntimeWarning, stacklevel=1)
        quiet_records, quiet_warnings = len(caplog.records), [str(x.message) for x in w]
        # Negative control: without --quiet everything comes through.
        with _quiet(False):
            noise()
    assert quiet_records == 0 and quiet_warnings == ["replication_00001.nc is unreadable"]
    assert len(caplog.records) == 1 and len(w) == 1 + 2
    assert pymc_log.level == before


def test_compare_refuses_an_exact_reference_the_model_does_not_have(capsys):
    code = main(["compare", "--family", "logistic", "--reference", "exact", "--no-report"])
    assert code == 2
    assert "--reference exact: the exact posterior covers the Gaussian" in capsys.readouterr().err


def test_compare_reports_a_sampler_that_fails_while_sampling_as_disagree(monkeypatch, capsys):
    # A broken sampler that raises inside the loop (a broken count kernel once drove the GIG
    # sampler to "no bounding rectangle") is the sampler's failure: exit 1 with the error, not
    # exit 2 as if the command had been misused.
    import gibbs

    real = gibbs.sample

    def breaks_when_lengthened(*args, **kwargs):
        if kwargs.get("draws", 1000) > 1000:
            raise ValueError("GIG sampler: no bounding rectangle")
        return real(*args, **kwargs)

    monkeypatch.setattr(gibbs, "sample", breaks_when_lengthened)
    code = main(["compare", "--no-report", "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "verdict: DISAGREE (the Gibbs run failed while sampling: GIG sampler" in out
    # Bad input stays a usage error, raised before any sampling.
    assert main(["compare", "--no-report", "--family", "logistic", "--scheme", "marginal"]) == 2
