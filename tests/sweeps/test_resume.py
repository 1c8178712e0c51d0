"""Fault injection: a real sweep killed with SIGKILL and re-run ends as if it had never been killed.

Each case kills a 3-job ``harness run -m`` (tiny data, MLflow's SQLite store in
the tmp results folder) at one point: in the middle of its third job, while
MLflow creates its store, or at a random point drawn from the lines the sweep
logs (a seed picks a line in one third of an uninterrupted sweep's output, and
a delay after it). The re-run
must give metrics identical to the uninterrupted sweep, exactly one FINISHED
MLflow run per config, the killed runs marked KILLED and one complete run
folder per job.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from .conftest import harness_command, sweep_environment

JOBS = 3
SWEEP = ("-m", "retriever=run", "reranker=overlap", "reranker.weight=0,0.5,1", "reranker.delay=0.1", "experiment_name=resume")
SEEDS = (0, 1, 2)
MAX_SECONDS = 240  # a sweep that does not end by then is killed and fails its test

pytestmark = pytest.mark.slow  # subprocess sweeps: about a minute per case on 2 busy cores


@dataclass
class Clean:
    metrics: dict[str, dict]  # config hash -> metrics of the uninterrupted sweep
    lines: int  # lines it logged


@dataclass
class AtKill:
    injected: bool  # the sweep was still running when killed
    running: set[str]  # MLflow run ids left RUNNING
    done: set[str]  # config hashes finished (run folder and FINISHED run) before the kill


def complete_runs(results: Path) -> dict[str, dict]:
    """config hash -> metrics of every complete run folder."""
    found = {}
    for metrics in (results / "resume").glob("*/metrics.json"):
        info = json.loads((metrics.parent / "run_info.json").read_text())
        found[info["tags"]["harness.config_hash"]] = json.loads(metrics.read_text())
    return found


def tracked(results: Path) -> list[tuple[str, str, str]]:
    """(run id, status, config hash) of every MLflow run, read from the store as it is (even half-made)."""
    db = results / "mlflow.db"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return list(
                con.execute(
                    "select r.run_uuid, r.status, t.value from runs r left join tags t "
                    "on t.run_uuid = r.run_uuid and t.key = 'harness.config_hash'"
                )
            )
    except sqlite3.OperationalError:  # tables not created yet
        return []


def statuses(results: Path) -> list[str]:
    return [status for _, status, _ in tracked(results)]


def state_at_kill(results: Path, injected: bool) -> AtKill:
    runs = tracked(results)
    finished = {digest for _, status, digest in runs if status == "FINISHED"}
    return AtKill(injected, {run for run, status, _ in runs if status == "RUNNING"}, finished & set(complete_runs(results)))


def start_sweep(cli, results: Path) -> subprocess.Popen:
    # lines arrive as they are written (a line number is a point); MLflow's INFO lines mark its store's creation steps
    env = {**cli.env, "PYTHONUNBUFFERED": "1", "MLFLOW_LOGGING_LEVEL": "INFO"}
    return subprocess.Popen(cli.command(results, *SWEEP), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def sigkill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()


def kill_after(cli, results: Path, reached: Callable[[int, str], bool], delay: float) -> AtKill:
    """Kill the sweep ``delay`` seconds after it logged the line for which ``reached(number, line)`` holds."""
    proc = start_sweep(cli, results)
    watchdog = threading.Timer(MAX_SECONDS, sigkill, [proc])
    watchdog.start()
    try:
        for number, line in enumerate(iter(proc.stdout.readline, ""), 1):
            if reached(number, line):
                break
        time.sleep(delay)
        injected = proc.poll() is None
    finally:
        watchdog.cancel()
        sigkill(proc)
    return state_at_kill(results, injected)


def kill_mid_third_job(cli, results: Path) -> AtKill:
    proc = start_sweep(cli, results)
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain the pipe
    deadline = time.monotonic() + MAX_SECONDS
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
        sigkill(proc)
    return state_at_kill(results, True)


def kill_point(seed: int, lines: int) -> tuple[int, float]:
    """A line in the seed's third of the sweep's output, and a delay of up to half a second after it.

    The last job's printed result and the summary (the last 8 lines) are left out: killed after its last
    ``stage cache`` line, the sweep is still writing the run folder, logging artifacts or closing the run."""
    rng = random.Random(seed)
    usable = lines - 8
    start, stop = max(1, seed % 3 * usable // 3), (seed % 3 + 1) * usable // 3
    return rng.randrange(start, max(start + 1, stop)), rng.uniform(0.0, 0.5)


@pytest.fixture(scope="module")
def clean(tiny_root, plugin_site, tmp_path_factory) -> Clean:
    results = tmp_path_factory.mktemp("clean")
    env = sweep_environment(tiny_root, plugin_site, tmp_path_factory.mktemp("clean-irds"))
    done = subprocess.run(
        harness_command(results, *SWEEP),
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = complete_runs(results)
    assert len(metrics) == JOBS
    return Clean(metrics, len((done.stdout + done.stderr).splitlines()))


def assert_resumed_like_clean(cli, results: Path, at_kill: AtKill, clean: Clean) -> None:
    rerun = cli.run(results, *SWEEP)
    output = rerun.stdout + rerun.stderr
    assert output.count("already finished") == len(at_kill.done)
    assert f"sweep: {JOBS} jobs ({JOBS - len(at_kill.done)} run, {len(at_kill.done)} resumed)" in output
    if at_kill.running:
        assert "left RUNNING by a killed job; marking it KILLED" in output
    # Identical figures, one complete folder per job and nothing else in the experiment folder.
    assert complete_runs(results) == clean.metrics
    folders = sorted((results / "resume").iterdir())
    assert len(folders) == JOBS and all((d / "metrics.json").is_file() for d in folders)
    # Exactly one FINISHED run per config; every run the kill left RUNNING is KILLED.
    runs = tracked(results)
    finished = [digest for _, status, digest in runs if status == "FINISHED"]
    assert sorted(finished) == sorted(clean.metrics)
    assert {status for _, status, _ in runs} <= {"FINISHED", "KILLED"}
    assert {run for run, status, _ in runs if status == "KILLED"} >= at_kill.running


def test_sweep_killed_in_its_third_job_resumes(cli, clean, tmp_path):
    at_kill = kill_mid_third_job(cli, tmp_path)
    assert len(at_kill.done) == 2 and len(at_kill.running) == 1
    assert_resumed_like_clean(cli, tmp_path, at_kill, clean)


@pytest.mark.parametrize("seed", SEEDS)
def test_sweep_killed_at_a_random_point_resumes(cli, clean, tmp_path, seed):
    line, delay = kill_point(seed, clean.lines)
    at_kill = kill_after(cli, tmp_path, lambda number, _: number == line, delay)
    assert at_kill.injected, f"the sweep ended before line {line} + {delay:.2f} s"
    assert_resumed_like_clean(cli, tmp_path, at_kill, clean)


def test_sweep_killed_while_creating_the_mlflow_store_resumes(cli, clean, tmp_path):
    """MLflow creates a new store in steps (tables, then seconds of migrations): killed among them, it left a
    store no later run could open ("table registered_models already exists")."""
    at_kill = kill_after(cli, tmp_path, lambda _, line: "mlflow.store.db.utils: Updating database tables" in line, 0.3)
    assert at_kill.injected and not at_kill.done
    assert_resumed_like_clean(cli, tmp_path, at_kill, clean)
    assert not list(tmp_path.glob(".mlflow.db.*"))  # the killed job's half-built store is gone
