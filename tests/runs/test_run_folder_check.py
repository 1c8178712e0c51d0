"""The session check of tests/conftest.py: it passes a true run folder, fails a wrong one, skips with a reason."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from omegaconf import OmegaConf

from harness.pipeline import run_experiment
from harness.testing.hydra import compose_run_config
from run_folder_check import check_all


def make_run(tiny_root, results: Path) -> Path:
    composed = compose_run_config(["tracking=none", "show_progress=false", f"results_dir={results}", "retriever=run"])
    return run_experiment(OmegaConf.to_container(composed, resolve=True)).run_dir


def test_true_wrong_and_unloadable_folders(tiny_root, tmp_path):
    run_dir = make_run(tiny_root, tmp_path / "results")
    # The damaged copies live outside pytest's base temp, where the session's own check never looks.
    with tempfile.TemporaryDirectory() as outside:
        copies = {name: Path(outside) / name / "run" for name in ("true", "wrong", "lost")}
        for copy in copies.values():
            shutil.copytree(run_dir, copy)
        metrics = json.loads((run_dir / "metrics.json").read_text())
        (copies["wrong"] / "metrics.json").write_text(json.dumps({**metrics, "map": metrics["map"] + 1e-9}))
        info = json.loads((run_dir / "run_info.json").read_text())
        (copies["lost"] / "run_info.json").write_text(json.dumps({**info, "data_root": str(tmp_path / "gone")}))
        (copies["lost"] / "metrics.json").write_text(json.dumps({**metrics, "map": 0.0}))  # not compared

        assert check_all(Path(outside) / "true").lines() == [
            "run folders re-evaluated from run.trec: 1 equal to their metrics.json within 1e-12 "
            "(run 1; 0 identical copies not counted)"
        ]
        wrong = check_all(Path(outside) / "wrong")
        assert not wrong.checked and len(wrong.failures) == 1
        assert wrong.failures[0].startswith(
            f"{copies['wrong']}: map metrics.json {metrics['map'] + 1e-9!r} vs run.trec {metrics['map']!r}"
        )
        lost = check_all(Path(outside) / "lost")
        assert not lost.checked and not lost.failures
        [(reason, count)] = lost.skipped.items()
        assert count == 1 and reason.startswith("dataset not loadable now: dataset 'msmarco-passage-mini': missing")
