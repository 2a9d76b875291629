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
    spec = gibbs.specify(GENERAL_CONFIGS["slopes+factors-gaussian"]().data, slopes=["z1"])
    assert spec.implementation.name == "slopes"
    assert refusal(spec.structure, spec.family.name, "sbc-resumable") is not None
    with pytest.raises(ValueError, match="capabilities"):
        check(spec, "sbc-resumable")
    # Negative control: a battery the table says runs is not refused.
    check(spec, "geweke")
    check(GENERAL_CONFIGS["slopes-logistic"](), "sbc-resumable")


def test_sbc_resume_where_the_table_refuses_it_is_refused_before_sampling(tmp_path, capsys):
    args = ["sbc", "--model", "M3", "--resume", "--out", str(tmp_path)]
    assert main(args) == 2
    assert "sbc-resumable" in capsys.readouterr().err


def test_data_prints_the_capability_table(capsys):
    assert main(["data", "--capabilities"]) == 0
    out = capsys.readouterr().out
    assert "slopes+factors" in out and "sbc-resumable" in out
    assert sum(line.split()[-1] == "yes" for line in out.splitlines() if "yes" in line) == 12


def test_cells_marked_yes_run_through_the_api():
    # Every combination samples (the table's "sample" column), here on the registry's data.
    for name, make in GENERAL_CONFIGS.items():
        spec = make()
        assert CAPABILITIES[(spec.structure, spec.family.name)]["sample"] is None, name
        idata = gibbs.sample(spec, draws=20, tune=10, chains=2, seed=1, progressbar=False)
        assert idata.posterior.sizes["draw"] == 20
