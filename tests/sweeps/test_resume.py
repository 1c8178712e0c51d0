"""A sweep killed with SIGKILL mid-job and re-run: every job done once, identical metrics."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

WEIGHTS = "0,0.25,0.5,0.75"
SWEEP = ("-m", "retriever=run", "reranker=overlap", f"reranker.weight={WEIGHTS}", "reranker.delay=0.15",
         "experiment_name=resume")


def complete_runs(results: Path) -> dict[str, dict]:
    """config hash -> metrics of every complete run folder."""
    found = {}
    for metrics in (results / "resume").glob("*/metrics.json"):
        info = json.loads((metrics.parent / "run_info.json").read_text())
        found[info["tags"]["harness.config_hash"]] = json.loads(metrics.read_text())
    return found


def statuses(results: Path) -> list[str]:
    db = results / "mlflow.db"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return [row[0] for row in con.execute("select status from runs")]
    except sqlite3.OperationalError:  # tables not created yet
        return []


def kill_mid_job(cli, results: Path) -> None:
    proc = subprocess.Popen(cli.command(results, *SWEEP), env=cli.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            now = statuses(results)
            if now.count("FINISHED") >= 2 and "RUNNING" in now:  # two jobs done, the third one started
                break
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.05)
        else:
            raise AssertionError("the sweep never reached its third job")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def test_killed_sweep_resumes_without_duplicates(cli, tmp_path):
    from mlflow import MlflowClient

    killed, clean = tmp_path / "killed", tmp_path / "clean"
    kill_mid_job(cli, killed)
    finished_before = statuses(killed).count("FINISHED")
    assert 2 <= finished_before < 4 and "RUNNING" in statuses(killed)

    rerun = cli.run(killed, *SWEEP)
    assert rerun.stderr.count("already finished") == finished_before
    assert "left RUNNING by a killed job; marking it KILLED" in rerun.stderr

    client = MlflowClient(tracking_uri=f"sqlite:///{killed / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("resume").experiment_id], max_results=100)
    finished = [r.data.tags["harness.config_hash"] for r in runs if r.info.status == "FINISHED"]
    assert len(finished) == len(set(finished)) == 4
    assert {r.info.status for r in runs} <= {"FINISHED", "KILLED"}
    assert "RUNNING" not in statuses(killed)
    # No half-written result: every run folder is complete.
    assert all((d / "metrics.json").exists() for d in (killed / "resume").iterdir())

    cli.run(clean, *SWEEP)
    assert complete_runs(killed) == complete_runs(clean)
    assert len(complete_runs(clean)) == 4
