"""The rules of resume on hand-made run folders and a recording tracker."""

from __future__ import annotations

import json

from harness import resume


class RecordingTracker:
    def __init__(self, runs):
        self.runs, self.set = runs, []

    def find_runs(self, experiment, config_hash):
        return self.runs

    def set_status(self, run_id, status):
        self.set.append((run_id, status))


def folder(tmp_path, digest="abc", complete=True):
    run_dir = tmp_path / "exp" / "run"
    run_dir.mkdir(parents=True)
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
    resume.retire(tracker, run_dir, "abc", tracker.runs)
    assert tracker.set == [("1", "KILLED")] and not run_dir.exists()


def test_retire_keeps_a_complete_folder(tmp_path):
    run_dir = folder(tmp_path)
    resume.retire(RecordingTracker([]), run_dir, "abc", [])
    assert (run_dir / "metrics.json").exists()
