"""The rules of resume on hand-made run folders and a recording tracker."""

from __future__ import annotations

import json
import os

import pytest

from harness import resume
from harness.errors import PathError
from harness.outputs import MARKER, start_run_folder


class RecordingTracker:
    def __init__(self, runs):
        self.runs, self.set = runs, []

    def find_runs(self, experiment, config_hash):
        return self.runs

    def set_status(self, run_id, status):
        self.set.append((run_id, status))


def folder(tmp_path, digest="abc", complete=True, marked=True):
    run_dir = tmp_path / "exp" / "run"
    run_dir.mkdir(parents=True)
    if marked:
        (run_dir / MARKER).write_text(json.dumps({"config_hash": digest, "pid": 1}))
    (run_dir / "run_info.json").write_text(json.dumps({"tags": {"harness.config_hash": digest}}))
    (run_dir / "per_query.json").write_text("{}")
    if complete:
        (run_dir / "metrics.json").write_text('{"ndcg@10": 0.5}')
    return run_dir


def test_setting_defaults_to_sweeps_only():
    assert resume.resume_enabled(None, multirun=True) and not resume.resume_enabled(None, multirun=False)
    assert resume.resume_enabled(True, multirun=False) and not resume.resume_enabled(False, multirun=True)


def test_done_needs_complete_folder_of_same_hash_and_a_finished_run(tmp_path):
    run_dir = folder(tmp_path)
    assert resume.is_done(run_dir, "abc", [{"run_id": "1", "status": "FINISHED"}])
    assert resume.is_done(run_dir, "abc", None)  # a tracker that cannot be asked: the folder decides
    assert not resume.is_done(run_dir, "abc", [{"run_id": "1", "status": "RUNNING"}])
    assert not resume.is_done(run_dir, "abc", [])
    assert not resume.is_done(run_dir, "other", None)


def test_retire_marks_running_runs_killed_and_removes_incomplete_folders(tmp_path):
    run_dir = folder(tmp_path, complete=False)
    tracker = RecordingTracker([{"run_id": "1", "status": "RUNNING"}, {"run_id": "2", "status": "FAILED"}])
    resume.retire(tracker, run_dir, "abc", tracker.runs, tmp_path)
    assert tracker.set == [("1", "KILLED")] and not run_dir.exists()


def test_retire_keeps_a_complete_folder(tmp_path):
    run_dir = folder(tmp_path)
    resume.retire(RecordingTracker([]), run_dir, "abc", [], tmp_path)
    assert (run_dir / "metrics.json").exists()


def test_retire_never_removes_a_folder_without_the_marker(tmp_path):
    """A user's own folder at the run's path (or a run folder from before the marker) is left as it is."""
    for files in ({"notes.txt": "mine"}, {"run_info.json": '{"tags": {"harness.config_hash": "abc"}}'}):
        run_dir = tmp_path / "exp" / "run"
        run_dir.mkdir(parents=True)
        for name, text in files.items():
            (run_dir / name).write_text(text)
        with pytest.raises(PathError, match=f"{run_dir}.*has no {MARKER}"):
            resume.retire(RecordingTracker([]), run_dir, "abc", [], tmp_path)
        assert {p.name: p.read_text() for p in run_dir.iterdir()} == files
        for path in run_dir.iterdir():
            path.unlink()
        run_dir.rmdir()


def test_retire_refuses_the_finished_run_of_another_config(tmp_path):
    run_dir = folder(tmp_path, digest="other")
    with pytest.raises(PathError, match="finished run of config other.*this job's config abc"):
        resume.retire(RecordingTracker([]), run_dir, "abc", [], tmp_path)
    assert (run_dir / "metrics.json").exists()


def test_retire_removes_only_inside_results_dir(tmp_path):
    """A marked folder reached through a symlink out of results_dir is not removed."""
    outside = folder(tmp_path / "outside", complete=False)
    results = tmp_path / "results"
    results.mkdir()
    (results / "exp").symlink_to(outside.parent)
    with pytest.raises(PathError, match="not inside"):
        resume.retire(RecordingTracker([]), results / "exp" / "run", "abc", [], results)
    assert (outside / MARKER).exists()


def test_an_empty_folder_is_left_for_the_job(tmp_path):
    run_dir = tmp_path / "exp" / "run"
    run_dir.mkdir(parents=True)
    resume.retire(RecordingTracker([]), run_dir, "abc", [], tmp_path)
    assert run_dir.is_dir()


def test_starting_a_job_marks_its_folder_and_unmarks_a_finished_one(tmp_path):
    run_dir = folder(tmp_path)
    start_run_folder(run_dir, "def")
    marker = json.loads((run_dir / MARKER).read_text())
    assert marker["config_hash"] == "def" and marker["pid"] == os.getpid() and marker["started"]
    assert not (run_dir / "metrics.json").exists()  # being redone: never looks finished half-way


def test_starting_a_job_refuses_a_foreign_folder(tmp_path):
    run_dir = tmp_path / "exp" / "run"
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.json").write_text("mine")
    with pytest.raises(PathError, match="not a harness run folder"):
        start_run_folder(run_dir, "abc")
    assert (run_dir / "metrics.json").read_text() == "mine" and not (run_dir / MARKER).exists()


def test_a_new_mlflow_store_is_built_aside_and_dead_builds_are_removed(tmp_path):
    """A builder killed mid-way leaves only hidden files, which the next builder removes (if its pid is gone)."""
    from harness_plugins.tracking.mlflow import create_store_once

    dead, live = ".mlflow.db.999999999.tmp", f".mlflow.db.{os.getppid()}.tmp"  # pid max is 4194304
    for name in (dead, dead + "-journal", live):
        (tmp_path / name).write_text("half-built")
    create_store_once(tmp_path / "mlflow.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == [live, "mlflow.db"]
    from mlflow import MlflowClient

    assert [e.name for e in MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").search_experiments()] == ["Default"]
