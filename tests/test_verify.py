"""``gibbs-suite verify``: one table of verdicts; its plug-in point verifies any sampler."""

import json

import pytest

from tests import plugin_samplers
from validation.cli import main


def _spec():
    import gibbs
    from gibbs.datasets import load_radon

    return gibbs.specify(load_radon(), priors=plugin_samplers.PRIORS)


def test_verify_cli_conformance(tmp_path, capsys):
    code = main(["verify", "--batteries", "conformance", "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "verdict: PASS" in out and "cannot see" in out
    record = json.loads((tmp_path / "verify.json").read_text())
    assert record["passed"] and record["batteries"][0]["battery"] == "conformance"


def test_verify_cli_catches_a_driver_mutant(tmp_path, capsys):
    code = main(
        [
            "verify",
            "--batteries",
            "conformance",
            "--mutant",
            "thin_from_first",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 1 and "verdict: FAIL" in capsys.readouterr().out


def test_plugin_conformance_catches_copied_chains():
    from validation.verify import verify

    good = verify(_spec(), sampler=plugin_samplers.wrapped, batteries=("conformance",))
    assert good.passed
    copies = verify(_spec(), sampler=plugin_samplers.copied_chains, batteries=("conformance",))
    assert copies.table.loc["conformance", "verdict"] == "FAIL"


@pytest.mark.slow
def test_plugin_sampler_passes_and_its_bugs_are_caught():
    from validation.verify import verify

    spec = _spec()
    good = verify(
        spec,
        sampler=plugin_samplers.wrapped,
        batteries=("conformance", "sbc"),
        plugin_replications=100,
    )
    assert good.passed, good.table
    assert good.table.loc["sbc", "verdict"] == "PASS"
    bad = verify(
        spec,
        sampler=plugin_samplers.inflated,
        batteries=("sbc",),
        plugin_replications=100,
    )
    assert bad.table.loc["sbc", "verdict"] == "FAIL", bad.table


def test_plugin_geweke_is_not_applicable():
    from validation.verify import verify

    result = verify(_spec(), sampler=plugin_samplers.wrapped, batteries=("geweke",))
    assert result.table.loc["geweke", "verdict"] == "N/A"
    assert "transition" in result.table.loc["geweke", "detail"]


@pytest.mark.slow
def test_verify_full_default_configuration(tmp_path):
    # The whole battery on radon M2 at its defaults: the correct sampler passes everything.
    assert main(["verify", "--out", str(tmp_path), "--quiet"]) == 0
