"""Bad run files and qrels reach the user as 'harness: error: ...' with exit 2, never a traceback;
``harness evaluate`` on a run folder's own run.trec reproduces its metrics.json exactly."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.cli import main
from harness.pipeline import run_experiment
from harness.testing.hydra import compose_run_config

DL19 = "msmarco-passage-mini/trec-dl-2019"
GOOD = "101 Q0 4 1 3.0 t\n102 Q0 5 1 2.0 t\n"
BAD_RUNS = {  # file content -> the start of the message after 'harness: error: <path>'
    "duplicate": (GOOD + "101 Q0 4 2 1.0 t\n", ":3: duplicate scored document for query '101', document '4'"),
    "nan": ("101 Q0 4 1 nan t\n", ":1: score 'nan' is not a finite number"),
    "truncated": (GOOD + "103 Q0 7\n", ":3: 3 columns where line 1 has 6"),
    "empty": ("", ": empty file: no scored document lines"),
    "not utf-8": (b"101 Q0 \xff 1 3.0 t\n", ":1: not valid UTF-8: byte 0xff at column 8 (byte offset 7 in the file)"),
}


def bad_file(tmp_path, kind: str):
    text, message = BAD_RUNS[kind]
    path = tmp_path / f"{kind.replace(' ', '-')}.trec"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path, message


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("kind", sorted(BAD_RUNS))
def test_evaluate_refuses_bad_run_files(tiny_root, tmp_path, capsys, kind):
    path, message = bad_file(tmp_path, kind)
    code, _, err = cli(capsys, "evaluate", str(path), "--dataset", DL19)
    assert code == 2 and err.startswith(f"harness: error: {path}{message}")


@pytest.mark.parametrize("kind", ["duplicate", "not utf-8"])
def test_leaderboard_refuses_bad_run_files(tiny_root, tmp_path, capsys, kind):
    path, message = bad_file(tmp_path, kind)
    code, _, err = cli(capsys, "leaderboard", "--dataset", DL19, "--run-file", f"{path}=mine")
    assert code == 2 and err.startswith(f"harness: error: {path}{message}")


def test_a_run_of_another_dataset_is_refused(tiny_root, tmp_path, capsys):
    path = tmp_path / "other.trec"
    path.write_text("".join(f"x{i} Q0 d{i} 1 1.0 t\n" for i in range(5)))
    code, _, err = cli(capsys, "evaluate", str(path), "--dataset", DL19)
    assert code == 2 and err == (
        f"harness: error: {path}: no query of the run is judged in '{DL19}': run queries "
        "'x0', 'x1', 'x2', ... (5 in all); judged queries '101', '102', '103', ... "
        "(4 in all). Is the run for this dataset?\n"
    )
    code, _, err = cli(capsys, "leaderboard", "--dataset", DL19, "--run-file", str(path))
    assert code == 2 and err.startswith(f"harness: error: --run-file {path}: no query of the run is judged")


def test_bad_qrels_reach_the_user_cleanly(tiny_root, tmp_path, capsys):
    qrels = tiny_root / "msmarco-passage-mini" / "qrels.dl19-passage.txt"
    qrels.write_text(qrels.read_text() + "101 0 4 1\n")
    path = tmp_path / "good.trec"
    path.write_text(GOOD)
    code, _, err = cli(capsys, "evaluate", str(path), "--dataset", DL19)
    assert code == 2 and err.startswith(
        f"harness: error: {qrels}:10: duplicate judgment for query '101', document '4': first on line 1"
    )


def run_folder(tiny_root, tmp_path, *overrides):
    from omegaconf import OmegaConf

    composed = compose_run_config(["tracking=none", "show_progress=false", f"results_dir={tmp_path / 'results'}", *overrides])
    return run_experiment(OmegaConf.to_container(composed, resolve=True)).run_dir


def test_evaluate_reproduces_a_run_folder_exactly(tiny_root, tmp_path, capsys):
    """The run's own relevance level (1 here, where the id says TREC DL) and query limit are used."""
    run_dir = run_folder(tiny_root, tmp_path, "dataset.binary_relevance_level=1", "dataset.query_limit=3")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    code, out, _ = cli(capsys, "evaluate", str(run_dir / "run.trec"), "--dataset", DL19, "--json")
    assert code == 0 and json.loads(out) == metrics  # exactly: full-precision scores, one ranking rule
    code, out, _ = cli(capsys, "evaluate", str(run_dir / "run.trec"), "--dataset", DL19)
    assert (
        "(3 judged queries, binary rel >= 1)\n  from the run folder's config.yaml: "
        "dataset.binary_relevance_level=1, dataset.query_limit=3"
    ) in out
    code, out, _ = cli(
        capsys, "evaluate", str(run_dir / "run.trec"), "--dataset", DL19, "--binary-relevance-level", "2", "--json"
    )
    assert json.loads(out) != metrics  # the override still wins


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["duplicate", "not utf-8", "empty"])
def test_harness_run_refuses_bad_run_files(tiny_root, tmp_path, kind):
    path, message = bad_file(tmp_path, kind)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            "retriever=run",
            f"retriever.path={path}",
            "tracking=none",
            f"results_dir={tmp_path / 'r'}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2 and f"harness: error: {path}{message}" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_harness_run_refuses_a_dataset_run_file_that_is_not_utf8(tiny_root, tmp_path):
    official = tiny_root / "msmarco-passage-mini" / "run.dl19.bm25-top100.trec"
    official.write_bytes(official.read_bytes() + b"104 Q0 \xe9 9 0.5 bm25\n")
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "retriever=run", "tracking=none", f"results_dir={tmp_path / 'r'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"harness: error: {official}:9: not valid UTF-8: byte 0xe9 at column 8" in out.stderr
