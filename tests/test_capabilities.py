"""The capability table: every structure x family has a kernel and a row; refusals come from it."""

import pytest

import gibbs
from gibbs.families import FAMILY
from gibbs.structures import IMPLEMENTATIONS, STRUCTURES
from tests.configurations import GENERAL_CONFIGS
from validation.capabilities import BATTERIES, CAPABILITIES, capability_table, check, refusal
from validation.cli import main


def test_every_structure_and_family_has_a_kernel_and_a_row():
    assert set(IMPLEMENTATIONS) == {(s, f) for s in STRUCTURES for f in FAMILY}
    table = capability_table()
    assert len(table) == len(STRUCTURES) * len(FAMILY)
    assert set(table.columns) == {"kernel", *BATTERIES}


def test_a_refused_battery_is_refused_with_the_tables_reason():
    spec = GENERAL_CONFIGS["slopes-logistic"]()
    assert refusal(spec.structure, spec.family.name, "pooling-baselines") is not None
    with pytest.raises(ValueError, match="capabilities"):
        check(spec, "pooling-baselines")
    # Negative control: a battery the table says runs is not refused.
    check(spec, "sbc-resumable")


@pytest.mark.slow  # resuming is checked in the default tier by tests/test_sbc.py
def test_resumable_sbc_of_the_varying_slopes_kernel_from_the_command_line(tmp_path, capsys):
    common = ["sbc", "--model", "M3", "--replications", "6", "--draws", "200", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "a")]) == 0
    first = (tmp_path / "a" / "summary.json").read_text()
    for path in sorted((tmp_path / "a").glob("replication_*.nc"))[2:4]:
        path.unlink()
    assert main([*common, "--out", str(tmp_path / "a"), "--resume"]) == 0
    assert (tmp_path / "a" / "summary.json").read_text().split('"passed"')[1] == first.split(
        '"passed"'
    )[1]


def test_data_prints_the_capability_table(capsys):
    assert main(["data", "--capabilities"]) == 0
    out = capsys.readouterr().out
    assert "slopes+factors" in out and "sbc-resumable" in out
    rows = sum(line.split()[-1] == "yes" for line in out.splitlines() if "yes" in line)
    assert rows == len(STRUCTURES) * len(FAMILY)  # every structure x family on the command line


def test_cells_marked_yes_run_through_the_api():
    # Every combination samples (the table's "sample" column), here on the registry's data.
    for name, make in GENERAL_CONFIGS.items():
        spec = make()
        assert CAPABILITIES[(spec.structure, spec.family.name)]["sample"] is None, name
        idata = gibbs.sample(spec, draws=20, tune=10, chains=2, seed=1, progressbar=False)
        assert idata.posterior.sizes["draw"] == 20
