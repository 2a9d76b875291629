import json

import pytest

from validation.cli import main


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


@pytest.mark.parametrize("command", ["data", "compare", "sbc", "geweke", "bench"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage: gibbs-suite" in capsys.readouterr().out
