"""A sweep whose jobs would share a run folder fails before its first job; the summary counts jobs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from harness.runs.sweep_jobs import Job, clash_message, shared_folders


def refused(cli, results: Path, *overrides: str) -> str:
    done = subprocess.run(cli.command(results, "-m", *overrides), env=cli.env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert not results.exists()  # no run folder, no MLflow store, not even Hydra's sweep folder
    return done.stderr


@pytest.mark.slow
def test_a_fixed_run_name_is_refused_before_the_first_job(cli, tmp_path):
    results = tmp_path / "r"
    stderr = refused(cli, results, "experiment=bm25_k1", "run_name=x")  # 6 jobs from hydra.sweeper.params
    folder = (results / "bm25_k1" / "x").resolve()
    assert re.search(
        r"sweep jobs #0 \(retriever\.b=0\.4\) and #1 \(retriever\.b=0\.75\), with retriever\.k1=0\.6 "
        rf".*run_name=x, would write one run folder, {re.escape(str(folder))} "
        r"\(and 4 more job\(s\) sharing a folder\)",
        stderr,
    ), stderr
    assert "Nothing was run" in stderr


@pytest.mark.slow
def test_repeated_jobs_and_bad_names_are_refused_before_the_first_job(cli, tmp_path):
    stderr = refused(cli, tmp_path / "r", "retriever=run", "reranker=overlap", "reranker.weight=0.5,0.5")
    assert "sweep jobs #0 and #1, both with" in stderr and "are the same config" in stderr
    stderr = refused(cli, tmp_path / "r", "retriever=run", "run_name=ok,..")
    assert "sweep job #1 (" in stderr and "run_name='..' is or contains" in stderr


@pytest.mark.slow
def test_interpolated_run_names_are_fine_and_the_summary_counts_jobs(cli, tmp_path):
    results = tmp_path / "r"
    sweep = ("-m", "retriever=run", "reranker=overlap", "run_name=w-${reranker.weight}", "experiment_name=named", "tracking=none")
    first = cli.run(results, *sweep, "reranker.weight=0,1")
    assert "sweep: 2 jobs (2 run, 0 resumed)" in first.stdout + first.stderr
    again = cli.run(results, *sweep, "reranker.weight=0,1,2")
    assert re.search(
        r"sweep: 3 jobs \(1 run, 2 resumed\) in [\d.]+ s; stage cache: rerank\.miss=1, retrieve\.hit=1$",
        again.stdout + again.stderr,
        re.M,
    ), again.stderr[-2000:]
    assert sorted(p.name for p in (results / "named").iterdir()) == ["w-0", "w-1", "w-2"]


def job(num: int, folder: str, digest: str, *overrides: str) -> Job:
    return Job(num, overrides, Path(folder), digest)


def test_clashes_name_both_jobs_and_the_folder():
    jobs = [
        job(0, "/r/e/x", "aaaa1111", "k1=0.6", "run_name=x"),
        job(1, "/r/e/y", "bbbb2222", "k1=0.9"),
        job(2, "/r/e/x", "cccc3333", "k1=1.2", "run_name=x", "hydra.verbose=true"),
    ]
    assert shared_folders(jobs) == [(jobs[0], jobs[2])]
    message = clash_message(shared_folders(jobs))
    assert message.startswith(
        "sweep jobs #0 (k1=0.6) and #2 (k1=1.2), with run_name=x, would write one run "
        "folder, /r/e/x; they differ but have one run_name"
    )
    same = clash_message([(job(0, "/r/e/z", "dddd4444", "a=1"), job(3, "/r/e/z", "dddd4444", "a=1"))])
    assert "sweep jobs #0 and #3, both with a=1," in same and "same config (dddd4444)" in same
    assert shared_folders([job(0, "/r/e/x", "a"), job(1, "/r/e/x/", "b")])  # one folder, however written
