"""No name makes the harness write or delete outside results_dir (names refused, paths guarded)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from harness.errors import ConfigError, PathError
from harness.outputs import MARKER
from harness.runs.paths import folder_name, inside, name_problem
from harness.pipeline import run_experiment
from harness.testing.hydra import compose_run_config

BAD_NAMES = [".", "..", "/", "a/../..", "", "  ", ".hidden", "x/../../y", "../sibling", "a\\..\\..", "_._", "..."]


def snapshot(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, tuple]:
    """Every path under ``root`` (but ``skip``) with its kind, size, mtime and content digest."""
    found = {}
    for path in sorted(root.rglob("*")):
        if any(path == s or s in path.parents for s in skip):
            continue
        stat = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
        found[str(path.relative_to(root))] = (path.is_dir(), path.is_symlink(), stat.st_size, stat.st_mtime_ns, digest)
    return found


@pytest.fixture()
def world(tiny_root, tmp_path):
    """results/ with a finished run, beside a sibling folder with a canary and the data."""
    (tmp_path / "sibling").mkdir()
    (tmp_path / "sibling" / "canary.txt").write_text("still here\n")
    (tmp_path / "outside-run").mkdir()  # what `experiment_name=..` would write into (or remove, on resume)
    (tmp_path / "outside-run" / "notes.txt").write_text("mine\n")
    finished = run_experiment(config(tmp_path, run_name="finished"))
    assert (finished.run_dir / "metrics.json").is_file()
    return tmp_path


def config(root: Path, **values) -> dict:
    composed = OmegaConf.to_container(compose_run_config(["retriever=run", "tracking=none"]), resolve=True)
    composed.pop("hydra", None)
    return {**composed, "results_dir": str(root / "results"), "show_progress": False, "resume": True, **values}


@pytest.mark.parametrize("key", ["run_name", "experiment_name"])
@pytest.mark.parametrize("name", BAD_NAMES + ["<absolute>"])
def test_no_name_writes_or_deletes_anything(world, key, name):
    name = str(world / "sibling") if name == "<absolute>" else name
    before = snapshot(world)
    with pytest.raises(ConfigError) as refused:
        run_experiment(config(world, **{key: name}, **({"run_name": "outside-run"} if key != "run_name" else {})))
    assert f"{key}={name!r}" in str(refused.value)
    assert snapshot(world) == before  # refused before anything was written, inside results_dir or out


@pytest.mark.parametrize(
    ("name", "folder"), [("a/b", "a_b"), ("my run", "my_run"), ("bm25-0.6", "bm25-0.6"), ("k1=0.9+b", "k1=0.9+b"), ("@@@", "run")]
)
def test_odd_names_keep_their_folders_inside_results(world, name, folder):
    outside = snapshot(world, skip=(world / "results",))
    result = run_experiment(config(world, run_name=name))
    assert result.run_dir == (world / "results" / "default" / folder).resolve()
    assert json.loads((result.run_dir / "run_info.json").read_text())["run_name"] == name
    assert snapshot(world, skip=(world / "results",)) == outside


def test_a_symlink_out_of_results_is_refused(world):
    """results/<experiment> pointing elsewhere: neither written into nor removed through."""
    (world / "results" / "linked").symlink_to(world / "sibling")
    (world / "sibling" / "run").mkdir()
    (world / "sibling" / "run" / MARKER).write_text("{}")  # looks like an unfinished run: resume would remove it
    before = snapshot(world)
    with pytest.raises(PathError, match="not inside"):
        run_experiment(config(world, experiment_name="linked", run_name="run"))
    assert snapshot(world) == before


def test_a_users_folder_at_the_runs_path_is_kept(world):
    mine = world / "results" / "default" / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine\n")
    for resume in (True, False):
        with pytest.raises(PathError, match=f"{mine}.*{MARKER}"):
            run_experiment(config(world, run_name="mine", resume=resume))
        assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_name_rules():
    assert all(name_problem(name) for name in BAD_NAMES)
    assert name_problem("x" * 256) and name_problem(7)
    assert folder_name("run_name", "bm25+overlap-1a2b3c4d") == "bm25+overlap-1a2b3c4d"
    with pytest.raises(ConfigError, match="run_name='..' is or contains '.' or '..'"):
        folder_name("run_name", "..")


def test_inside_follows_symlinks(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "escape").symlink_to(tmp_path)
    assert inside(tmp_path / "root" / "a" / "b", [tmp_path / "root"], "write") == tmp_path / "root" / "a" / "b"
    for path in (tmp_path / "root", tmp_path / "root" / "escape" / "x", tmp_path / "root" / ".." / "x"):
        with pytest.raises(PathError, match="refusing to write"):
            inside(path, [tmp_path / "root"], "write")


@pytest.mark.slow
def test_the_command_refuses_a_bad_name_without_a_traceback(tiny_root, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            f"results_dir={tmp_path / 'r'}",
            "retriever=run",
            "tracking=none",
            "run_name=.",
            "resume=true",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert "harness: error: run_name='.' is or contains" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "r" / "default").exists()


@pytest.mark.slow
def test_sweep_plot_refuses_an_experiment_name_leading_out(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "plot-sweep",
            "--experiment",
            "..",
            "--x",
            "k1",
            "--results-dir",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "--experiment='..' is or contains" in done.stderr
    assert "Traceback" not in done.stderr and not list(tmp_path.rglob("*.png"))
