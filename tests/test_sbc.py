"""Simulation-based calibration: the correct sampler passes, broken ones fail, and runs are
reproducible across backends, chunkings and interruptions."""

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gibbs.priors import Priors
from tests.tiers import tiered
from validation.cli import main
from validation.mutants import MUTANTS
from validation.sbc import SBC, DaskExecutor, GibbsEngine, LocalExecutor, ecdf_uniformity_pvalue

from .calibration import HEAVY_TAILED, LEVEL, PRIORS, small_design


@pytest.fixture(scope="module")
def design():
    return small_design()


# The inverse-gamma and half-Cauchy priors in the default tier (conjugate draws; a heavy tail),
# the half-t and half-normal ones (their Geweke runs stay) in make test-all.
@pytest.mark.parametrize(
    "family", tiered(sorted(PRIORS) + sorted(HEAVY_TAILED), {"inverse_gamma", "half_cauchy"})
)
def test_correct_sampler_passes_sbc(design, family):
    # scipy's GIG draw for a half-normal sigma_y runs chain by chain: shorter fits there.
    engine = GibbsEngine(draws=300, tune=100) if family == "half_normal_y" else GibbsEngine()
    priors = PRIORS.get(family) or HEAVY_TAILED[family]
    result = SBC(design, priors, engine, replications=200, seed=1).run(
        progressbar=False, level=LEVEL
    )
    assert result.passed, f"{result}\n{result.tests}"


@pytest.mark.parametrize(
    "mutant",
    tiered(
        ["plugin_variance", "log_uniform_df", "sigma_alpha_over_n"],
        {"plugin_variance", "log_uniform_df"},
    ),
)
def test_broken_samplers_fail_sbc(design, mutant):
    engine = GibbsEngine(sweep=MUTANTS[mutant].sweep)
    with np.errstate(all="ignore"):
        result = SBC(design, PRIORS["inverse_gamma"], engine, replications=200, seed=1).run(
            progressbar=False, level=LEVEL
        )
    assert not result.passed, str(result)


def test_ecdf_test_has_level_and_power():
    rng = np.random.default_rng(0)
    assert ecdf_uniformity_pvalue(rng.random(200)) > LEVEL
    assert ecdf_uniformity_pvalue(rng.random(200) ** 1.5) < LEVEL


def _small(design, out=None, chunk=5):
    return SBC(
        design,
        PRIORS["inverse_gamma"],
        GibbsEngine(draws=200, tune=100),
        replications=20,
        seed=7,
        out_dir=out,
        chunk=chunk,
    )


@pytest.mark.slow  # 25 s of cluster start-up; the resumable local runs stay in the default tier
def test_dask_local_cluster_gives_the_same_ranks_as_local_processes(design):
    local = _small(design).run(LocalExecutor(2), progressbar=False)
    dask = _small(design).run(DaskExecutor(workers=2), progressbar=False)
    assert local.ranks.equals(dask.ranks)
    # and the chunking does not matter either
    assert local.ranks.equals(_small(design, chunk=20).run(progressbar=False).ranks)


def test_killed_run_resumes_to_the_same_result(design, tmp_path):
    args = [
        "sbc",
        "--replications",
        "40",
        "--chunk",
        "2",
        "--draws",
        "200",
        "--tune",
        "100",
        "--seed",
        "3",
        "--quiet",
    ]
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from validation.cli import main; sys.exit(main(sys.argv[1:]))",
            *args,
            "--out",
            str(out),
        ]
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("replication_*.nc"))) < 6:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list(out.glob("replication_*.nc")))
    assert 6 <= finished < 40, finished
    assert main([*args, "--out", str(out), "--resume"]) in (0, 1)
    assert len(list(out.glob("replication_*.nc"))) == 40
    full = tmp_path / "full"
    assert main([*args, "--out", str(full)]) in (0, 1)
    import xarray as xr

    for r in range(40):
        name = f"replication_{r:05d}.nc"
        with (
            xr.open_dataset(out / name, engine="scipy") as a,
            xr.open_dataset(full / name, engine="scipy") as b,
        ):
            np.testing.assert_array_equal(a["rank"].values, b["rank"].values)


def test_existing_results_need_resume(design, tmp_path):
    _small(design, out=tmp_path).run(progressbar=False)
    with pytest.raises(ValueError, match="pass resume=True"):
        _small(design, out=tmp_path).run(progressbar=False)


def test_sbc_needs_proper_priors(design):
    with pytest.raises(ValueError, match="proper priors"):
        SBC(design, Priors(), GibbsEngine())


@pytest.mark.slow
def test_nuts_twin_passes_sbc(design):
    from validation.sbc import PyMCEngine

    result = SBC(
        design,
        PRIORS["inverse_gamma"],
        PyMCEngine("nutpie", draws=500, tune=500),
        replications=100,
        seed=2,
    ).run(progressbar=False, level=LEVEL)
    assert result.passed, f"{result}\n{result.tests}"
