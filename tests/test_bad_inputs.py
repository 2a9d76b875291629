"""Bad and unusual inputs: each is refused before any sampling with a message that names the
problem, or handled correctly (the table of docs/bad-inputs.md and more).

Every refusal runs with sampling disabled (``no_sampling``): an error raised after the work
had started would fail the test instead of passing it.
"""

import importlib
import json
import pkgutil
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import gibbs
import reference_models
from gibbs.data import HierarchicalData
from gibbs.datasets import load_radon, load_radon_frame, simulate_hierarchical
from gibbs.priors import Flat, Normal, Priors, weakly_informative
from validation.cli import EXIT_BAD_RUN_FOLDER, EXIT_USAGE, main


@pytest.fixture(scope="module")
def radon():
    return load_radon()


@pytest.fixture(scope="module")
def radon_df():
    df, _ = load_radon_frame()
    return df


@pytest.fixture
def no_sampling(monkeypatch):
    """Make any start of the Gibbs driver or of NUTS an error."""

    def refuse(*args, **kwargs):
        raise AssertionError("sampling started before the bad input was refused")

    # Patched where they are looked up (the modules are imported above, before any patch, so
    # that no module binds the patched functions for good).
    monkeypatch.setattr(gibbs.sampling, "run", refuse)
    # Every submodule is imported first: one imported while the patch is on would bind the
    # refusing function for good, and break later tests in this process.
    for info in pkgutil.iter_modules(reference_models.__path__):
        importlib.import_module(f"reference_models.{info.name}")
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("reference_models."):
            for name in ("sample_model", "fit_cached"):
                if hasattr(module, name):
                    monkeypatch.setattr(module, name, refuse)


def _frame(seed=0, n=24):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "g": np.repeat(list("abcdef"), n // 6),
            "s": np.tile(["lo", "hi"], n // 2),
            "yn": np.tile(["yes", "no"], n // 2),
        }
    )


# --------------------------------------------------------------------------- data and formulas
def _with_y(radon, y):
    return radon.replace(y=np.asarray(y, dtype=float))


DATA_CASES = {
    "y as strings": (
        lambda r, df: HierarchicalData.from_dataframe(df, y="s", group="g"),
        r"outcome column 's' is not numeric: 24 row\(s\) hold values such as 'hi', 'lo'",
    ),
    "string predictor": (
        lambda r, df: HierarchicalData.from_dataframe(df, y="y", group="g", x=["s"]),
        "predictor column 's' is not numeric",
    ),
    "binomial outcome as yes/no": (
        lambda r, df: gibbs.specify("yn ~ x + (1 | g)", data=df, family="logistic"),
        "outcome column 'yn' is not numeric",
    ),
    "constant y": (
        lambda r, df: gibbs.specify(_with_y(r, np.full(r.n, 1.5))),
        "log_radon is constant",
    ),
    "y constant within every group": (
        lambda r, df: gibbs.specify(_with_y(r, r.U[r.group, 1])),
        "constant within every county",
    ),
    "predictor offset by 1e8 under a normal gamma prior (cannot be centred exactly)": (
        lambda r, df: gibbs.sample(
            HierarchicalData(y=r.y, X=r.X + 1e8, group=r.group, U=r.U),
            priors=Priors(gamma=Normal(0, 10)),
        ),
        "ill-conditioned: column 'x0' has mean [0-9.]+e\\+08",
    ),
    "near-collinear predictors": (
        lambda r, df: gibbs.sample(
            HierarchicalData(
                y=r.y,
                X=np.column_stack([r.X[:, 0], r.X[:, 0] + 1e-9 * np.sin(np.arange(r.n))]),
                group=r.group,
                U=r.U,
            )
        ),
        "'x0', 'x1' are nearly collinear",
    ),
    "response also a predictor": (
        lambda r, df: gibbs.specify("x ~ x + (1 | g)", data=df),
        "x is both the response and a predictor",
    ),
    "offset() in a formula that does not evaluate": (
        lambda r, df: gibbs.specify("y ~ offset(np.log(nowhere)) + (1 | g)", data=df),
        r"the offset offset\(np.log\(nowhere\)\) does not evaluate",
    ),
    "grouping factor as a common term": (
        lambda r, df: gibbs.specify("y ~ C(g) + (1 | g)", data=df),
        "g is a grouping factor and also a common",
    ),
    "lme4 separate terms for one factor": (
        lambda r, df: gibbs.specify("y ~ x + (1 | g) + (0 + x | g)", data=df),
        "separate terms for one factor, g",
    ),
    "lme4 double bar": (
        lambda r, df: gibbs.specify("y ~ x + (1 + x || g)", data=df),
        r"'\|\|' \(uncorrelated varying effects",
    ),
    "group_data not indexed by label": (
        lambda r, df: HierarchicalData.from_dataframe(
            df, y="y", group="g", u=["u"], group_data=pd.DataFrame({"g": list("abcdef"), "u": 1.0})
        ),
        r"group_data must be indexed by the labels of column 'g'.*set_index\('g'\)",
    ),
    "Gaussian family with trials": (
        lambda r, df: gibbs.specify("y ~ x + (1 | g)", data=df.assign(n=3), trials="n"),
        "trials are for the binomial families",
    ),
    "missing group labels": (
        lambda r, df: HierarchicalData.from_dataframe(
            df.assign(g=[None] + list(df.g[1:])), "y", "g"
        ),
        r"group labels have 1 missing value\(s\)",
    ),
    "infinite predictor": (
        lambda r, df: HierarchicalData.from_dataframe(df.assign(x=np.inf), "y", "g", x=["x"]),
        "X column 'x' has 24 row",
    ),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_is_refused_with_the_problem_named(case, radon, no_sampling):
    build, message = DATA_CASES[case]
    with pytest.raises(ValueError, match=message):
        build(radon, _frame())


def test_group_level_separation_under_a_flat_gamma_is_refused(no_sampling):
    J = 10
    g = np.repeat(np.arange(J), 5)
    u = np.linspace(-1, 1, J)
    X = np.sin(np.arange(50.0))[:, None]
    data = HierarchicalData.from_arrays((u[g] > 0).astype(float), X, g, u[:, None])
    with pytest.raises(ValueError, match="group-level predictors separate groups"):
        gibbs.specify(data, family="logistic", priors=Priors(beta=Normal(0, 1), gamma=Flat()))
    # Negative control: the same design with mixed outcomes in every group is proper.
    mixed = data.replace(y=(np.arange(50) % 2).astype(float))
    gibbs.specify(mixed, family="logistic", priors=Priors(beta=Normal(0, 1), gamma=Flat()))


def test_a_transformed_response_is_evaluated_not_looked_up(radon_df):
    df = radon_df.assign(radon=np.exp(radon_df["log_radon"]))
    spec = gibbs.specify("np.log(radon) ~ floor + (1 | county)", data=df)
    np.testing.assert_allclose(spec.data.y, radon_df["log_radon"], rtol=1e-12)


def test_groups_of_one_row_are_not_an_exact_fit():
    # Every group a single row: the group-level distribution bounds the likelihood, so the
    # exact-fit refusal must not fire (the posterior is proper under a proper sigma_y prior).
    data, _ = simulate_hierarchical(12, 1, seed=0)
    gibbs.specify(data, priors=weakly_informative())


# --------------------------------------------------------------------------- sampler arguments
ARG_CASES = {
    "draws as a string": ({"draws": "100"}, r"draws must be an integer >= 1, got '100' \(str\)"),
    "draws as a bool": ({"draws": True}, r"draws must be an integer >= 1, got True \(bool\)"),
    "chains as a float": ({"chains": 2.0}, r"chains must be an integer >= 1, got 2.0"),
    "zero draws": ({"draws": 0}, "draws must be an integer >= 1, got 0"),
    "negative tune": ({"tune": -1}, "tune must be an integer >= 0"),
    "negative seed": ({"seed": -1}, "seed must be a non-negative integer, got -1"),
    "seed of the wrong type": ({"seed": 1.5}, "seed must be None, a non-negative integer"),
    "seed list of the wrong length": ({"seed": [1, 2]}, "seed: 2 seeds given for 4 chains"),
    "unknown prior preset": ({"priors": "flat"}, "priors: unknown preset 'flat'"),
    "slopes preset for intercepts": ({"priors": "huang-wand"}, "that one is for varying slopes"),
    "priors mapping with a bad field": ({"priors": {"bogus": 1}}, "unexpected keyword"),
    "priors of the wrong type": ({"priors": 3}, "priors must be a Priors"),
    "init NaN": ({"init": {"sigma_alpha": float("nan")}}, "init: sigma_alpha holds NaN"),
    "init of an unknown parameter": ({"init": {"tau": 1.0}}, "init: unknown parameter 'tau'"),
    "integer dtype": ({"dtype": int}, "dtype must be np.float64 or np.float32"),
    "unknown scheme": ({"scheme": "gibbs"}, "unknown scheme 'gibbs'"),
    "store_alpha of an unknown group": ({"store_alpha": ["NOWHERE"]}, "store_alpha: 'NOWHERE'"),
}


@pytest.mark.parametrize("case", sorted(ARG_CASES))
def test_bad_arguments_are_refused_before_sampling(case, radon, no_sampling):
    kwargs, message = ARG_CASES[case]
    with pytest.raises(ValueError, match=message):
        gibbs.sample(radon, progressbar=False, **kwargs)


def test_fit_reference_refuses_a_formula_without_its_data(no_sampling):
    from reference_models.fit import fit_reference

    with pytest.raises(ValueError, match="DataFrame"):
        fit_reference("log_radon ~ floor + (1 | county)")
    with pytest.raises(ValueError, match="seed and random_seed"):
        fit_reference(_frame(), seed=1, random_seed=1)


def test_an_output_too_large_for_memory_is_refused_before_sampling(radon, monkeypatch):
    monkeypatch.setattr("gibbs.arguments.available_memory", lambda: 2**30)  # 1 GiB
    monkeypatch.setattr("gibbs.sampling.run", lambda *a, **k: pytest.fail("sampling started"))
    with pytest.raises(MemoryError, match=r"log_likelihood .* GiB.*log_likelihood=False"):
        gibbs.sample(radon, draws=5000, chains=40, progressbar=False)


def test_handled_arguments(radon):
    kw = {"draws": 40, "tune": 20, "progressbar": False, "compute_convergence_checks": False}
    # A Generator as seed, as PyMC accepts: reproducible from the generator's own seed.
    a = gibbs.sample(radon, seed=np.random.default_rng(7), **kw)
    b = gibbs.sample(radon, seed=np.random.default_rng(7), **kw)
    np.testing.assert_array_equal(a.posterior["beta"], b.posterior["beta"])
    # A preset name is the preset.
    named = gibbs.sample(radon, priors="weakly-informative", seed=3, **kw)
    given = gibbs.sample(radon, priors=weakly_informative(), seed=3, **kw)
    np.testing.assert_array_equal(named.posterior["sigma_y"], given.posterior["sigma_y"])
    # store_alpha=False keeps the log-likelihood (every alpha is recorded, none is returned),
    # and the draws are those of the full run.
    none = gibbs.sample(radon, store_alpha=False, seed=3, **kw)
    full = gibbs.sample(radon, seed=3, **kw)
    assert none.posterior["alpha"].size == 0
    np.testing.assert_array_equal(
        none.log_likelihood["log_radon"], full.log_likelihood["log_radon"]
    )
    np.testing.assert_array_equal(none.posterior["beta"], full.posterior["beta"])


# --------------------------------------------------------------------------- command line
CLI_CASES = {
    "negative seed": (["compare", "--seed", "-1"], "--seed: must be an integer >= 0, got -1"),
    "level 2": (["compare", "--level", "2"], "--level: must be strictly between 0 and 1"),
    "level 0": (["compare", "--level", "0"], "--level: must be strictly between 0 and 1"),
    "zero groups": (["data", "--dataset", "synthetic", "--groups", "0"], "--groups: must be"),
    "negative groups": (["data", "--dataset", "synthetic", "--groups", "-5"], "--groups: must"),
    "trials with the Gaussian family": (
        ["data", "--dataset", "synthetic", "--trials", "3"],
        "--trials is for the binomial families",
    ),
    "zero replications": (["sbc", "--replications", "0"], "--replications: must be"),
    "negative replications": (["sbc", "--replications", "-2"], "--replications: must be"),
    "zero workers": (["sbc", "--workers", "0"], "--workers: must be"),
    "zero ranks": (["sbc", "--n-ranks", "0"], "--n-ranks: must be"),
    "more ranks than draws": (
        ["sbc", "--n-ranks", "1000", "--draws", "200"],
        "--n-ranks 1000 needs at least as many kept draws",
    ),
    "zero chunk": (["sbc", "--chunk", "0"], "--chunk: must be"),
    "zero Geweke iterations": (["geweke", "--iterations", "0"], "--iterations: must be"),
    "one Geweke chain": (["geweke", "--chains", "1"], "needs at least 20 successive"),
    "zero bench repeats": (["bench", "--repeats", "0"], "--repeats: must be"),
    "draws not a number": (["compare", "--draws", "many"], "--draws: expected an integer"),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_bad_cli_options_are_refused_before_any_work(case, capsys, no_sampling, tmp_path):
    argv, message = CLI_CASES[case]
    if "--out" not in argv and argv[0] in ("sbc", "geweke", "compare"):
        argv = [*argv, "--out", str(tmp_path / "out")]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    err = capsys.readouterr().err
    assert code == EXIT_USAGE, err
    assert message in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["compare", "geweke", "sbc", "predictive"])
def test_an_unusable_out_folder_is_found_before_any_work(command, capsys, no_sampling, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for out, message in [
        (blocker, "exists and is not a folder"),
        (blocker / "sub", "cannot write"),
    ]:
        code = main([command, "--out", str(out)])
        err = capsys.readouterr().err
        assert code == EXIT_USAGE and message in err, err


def test_sbc_dask_without_dask_is_a_clear_error(capsys, no_sampling, monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import now fails
    code = main(["sbc", "--dask", "--out", str(tmp_path)])
    assert code == EXIT_USAGE and "pip install 'gibbs-suite[dask]'" in capsys.readouterr().err


def test_ctrl_c_in_a_command_ends_with_one_line(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr("validation.cli._cmd_data", interrupted)  # looked up by build_parser
    code = main(["data"])
    err = capsys.readouterr().err
    assert code == 130 and err.strip() == "gibbs-suite data: interrupted"


# --------------------------------------------------------------------------- resume
SBC_SMALL = ["sbc", "--replications", "4", "--chunk", "2", "--draws", "60", "--tune", "20"]
SBC_SMALL += ["--n-ranks", "59", "--seed", "4", "--quiet"]


def _sbc(out, *extra):
    return main([*SBC_SMALL, "--out", str(out), *extra])


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sbc-run")
    assert _sbc(out) in (0, 1)
    return out


@pytest.mark.parametrize(
    ("changed", "named"),
    [
        (["--draws", "80"], "engine"),
        (["--priors", "inverse-gamma", "--seed", "5"], "seed"),
        (["--design", "unbalanced"], "design"),
        (["--scheme", "collapsed"], "scheme"),
    ],
)
def test_resume_with_a_changed_setting_is_refused_naming_it(finished_run, changed, named, capsys):
    args = [*SBC_SMALL, "--out", str(finished_run), "--resume"]
    for k in range(0, len(changed), 2):  # replace the option's value, or add it
        if changed[k] in args:
            args[args.index(changed[k]) + 1] = changed[k + 1]
        else:
            args += changed[k : k + 2]
    code = main(args)
    err = capsys.readouterr().err
    assert code == EXIT_BAD_RUN_FOLDER, err
    assert f"{named}: recorded" in err, err


def test_resume_after_a_mutant_run_without_it_is_refused(tmp_path, capsys):
    from validation.calibration import mutants_for
    from validation.cli import build_parser, load_spec

    spec = load_spec(build_parser().parse_args(["sbc"]))
    mutant = sorted(mutants_for(spec))[0]
    assert _sbc(tmp_path, "--mutant", mutant) in (0, 1)
    capsys.readouterr()
    assert _sbc(tmp_path, "--resume") == EXIT_BAD_RUN_FOLDER
    err = capsys.readouterr().err
    assert "mutant: recorded" in err and mutant in err


def test_resume_recomputes_a_corrupt_replication_and_uses_only_what_is_asked(tmp_path, capsys):
    assert _sbc(tmp_path) in (0, 1)
    before = json.loads((tmp_path / "summary.json").read_text())
    (tmp_path / "replication_00001.nc").write_bytes(b"not a netCDF file")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _sbc(tmp_path, "--resume") in (0, 1)
    assert any("replication_00001.nc is unreadable" in str(w.message) for w in caught)
    after = json.loads((tmp_path / "summary.json").read_text())
    assert after["tests"] == before["tests"]  # the recomputed replication is the same
    # Fewer replications asked on resume: only those are used.
    args = [*SBC_SMALL, "--out", str(tmp_path), "--resume"]
    args[args.index("--replications") + 1] = "2"
    assert main(args) in (0, 1)
    assert json.loads((tmp_path / "summary.json").read_text())["replications"] == 2


def test_a_factorisation_that_fails_on_this_cpu_gives_the_named_error(radon, monkeypatch):
    """Whether a nearly singular X'X survives its Cholesky factorisation depends on the CPU's
    floating-point path: where it fails (forced here), specify gives the same message that
    sample() gives where it passes."""
    import gibbs.kernels.gaussian as gaussian

    def fail(_):
        raise np.linalg.LinAlgError("Matrix is not positive definite")

    monkeypatch.setattr(gaussian, "inverse_and_root", fail)
    X = np.column_stack([radon.X[:, 0], radon.X[:, 0] + 1e-9 * np.sin(np.arange(radon.n))])
    with pytest.raises(ValueError, match="'x0', 'x1' are nearly collinear"):
        gibbs.specify(HierarchicalData(y=radon.y, X=X, group=radon.group, U=radon.U))
    # Negative control: well-conditioned data reach the failing factorisation and say so.
    with pytest.raises(ValueError, match="precomputed linear algebra failed"):
        gibbs.specify(radon)
