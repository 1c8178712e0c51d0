"""scripts/training_curve.py draws a run folder's training curves, and refuses an untrained run."""

import json

import pytest

from tests.script_loader import load_script


def load():
    return load_script("training_curve")


def test_running_mean():
    assert load().running_mean([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]


def test_plot_from_a_run_folder_and_refusal(tmp_path, capsys):
    script = load()
    run = tmp_path / "run"
    run.mkdir()
    losses = [[i, 1.4 - i / 100] for i in range(1, 61)]
    (run / "run_info.json").write_text(json.dumps({"training": {"losses": losses, "validation": [[30, 1.0], [60, 0.8]]}}))
    out = tmp_path / "curve.png"
    assert script.main([str(run), "--out", str(out), "--group-size", "4"]) == 0
    assert out.read_bytes().startswith(b"\x89PNG") and f"plot: {out}" in capsys.readouterr().out
    (run / "run_info.json").write_text(json.dumps({"training": None}))
    with pytest.raises(SystemExit):
        script.main([str(run), "--out", str(out)])
    assert "no training curves" in capsys.readouterr().err
