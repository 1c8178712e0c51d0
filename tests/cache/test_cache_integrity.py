"""The stage cache never serves an entry it cannot verify, and content digests key what stages read."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import cache as cache_module
from harness.data import datasets
from harness.cache import digests
from harness.cache import MANIFEST, QUARANTINE, StageCache, verify_entry
from harness.errors import DataError, PluginError
from harness.plugin_manager import get_plugin_manager


@pytest.fixture()
def fresh_process(monkeypatch):
    """Forget what this process verified and swept, as a new process would."""
    monkeypatch.setattr(cache_module, "_verified", {})
    monkeypatch.setattr(cache_module, "_swept", set())
    monkeypatch.setattr(digests, "_memo", {})


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return value

    return compute, calls


def only_entry(root: Path, stage: str) -> Path:
    [entry] = [p for p in (root / stage).iterdir() if not p.name.startswith(".")]
    return entry


def flip_byte(path: Path, position: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    index = len(data) // 2 if position is None else position
    data[index] ^= 0x01  # one bit: the value often stays valid JSON, a figure silently changes
    path.write_bytes(bytes(data))


# -- digests -----------------------------------------------------------------


def test_file_digest_is_the_content_hashed_once_while_unchanged(tmp_path, monkeypatch, fresh_process):
    hashed = []
    real = digests.sha256_file
    monkeypatch.setattr(digests, "sha256_file", lambda p: hashed.append(p) or real(p))
    path = tmp_path / "collection.tsv"
    path.write_text("1\tone\n")
    first = digests.file_digest(path)
    assert digests.file_digest(path) == first and len(hashed) == 1  # memoised
    stat = path.stat()
    path.write_text("1\tonf\n")  # edited in place, same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert digests.file_digest(path) != first and len(hashed) == 2
    moved = tmp_path / "elsewhere" / "collection.tsv"
    moved.parent.mkdir()
    shutil.copy(path, moved)
    assert digests.file_digest(moved) == digests.file_digest(path)  # content, not place


def test_model_folder_digest_sees_weights_not_readme_or_mtime(tmp_path):
    from harness.models.loading import model_fingerprint

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"hidden_size": 32}')
    (model / "model.safetensors").write_bytes(b"\x00" * 64)
    (model / "README.md").write_text("about")
    before = model_fingerprint(str(model))
    (model / "README.md").write_text("about this model")
    assert model_fingerprint(str(model)) == before
    copy = tmp_path / "copy"
    shutil.copytree(model, copy)
    assert model_fingerprint(str(copy)) == before  # another venv's copy of the same weights shares entries
    stat = (model / "model.safetensors").stat()
    (model / "model.safetensors").write_bytes(b"\x00" * 63 + b"\x01")  # retrained in place, same size
    os.utime(model / "model.safetensors", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    digests._memo.clear()  # a new process: size and mtime alone would say "unchanged"
    assert model_fingerprint(str(model)) != before


def test_dataset_digest_follows_content_not_location(tiny_root, tmp_path):
    pm = get_plugin_manager(entry_point_plugins=False)
    dataset_id = "msmarco-passage-mini/trec-dl-2019"
    before = digests.dataset_digest(datasets.load(dataset_id, pm, tiny_root))
    moved = tmp_path / "moved"
    shutil.copytree(tiny_root, moved)
    assert digests.dataset_digest(datasets.load(dataset_id, pm, moved)) == before
    qrels = moved / "msmarco-passage-mini" / "qrels.dl19-passage.txt"
    qrels.write_text(qrels.read_text().replace("101 0 4 3", "101 0 4 0"))
    assert digests.dataset_digest(datasets.load(dataset_id, pm, moved)) != before


def test_qa_jsonl_dataset_digests_its_file(tmp_path, monkeypatch):
    monkeypatch.setenv("IR_DATASETS_HOME", str(tmp_path / "irds"))
    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"question": "who", "answers": ["ann"], "gold_passages": ["ann did it"]}) + "\n")
    pm = get_plugin_manager(entry_point_plugins=False)
    load = lambda: datasets.load(f"qa-jsonl:{data}", pm, tmp_path)  # noqa: E731
    before = digests.dataset_digest(load())
    assert before is not None
    data.write_text(json.dumps({"question": "who", "answers": ["bob"], "gold_passages": ["bob did it"]}) + "\n")
    assert digests.dataset_digest(load()) != before


def test_plugins_declare_the_files_their_handlers_read(tmp_path):
    class Handler:
        def __init__(self, path):
            self.harness_data_files = [path]

    class Failing:
        def harness_data_files(self):
            raise RuntimeError("no such folder")

    path = tmp_path / "docs.bin"
    path.write_bytes(b"abc")
    before = digests.dataset_digest({"docs": Handler(path)})
    path.write_bytes(b"abd")
    assert digests.dataset_digest({"docs": Handler(path)}) != before
    assert digests.dataset_digest({"nothing": 1}) is None
    with pytest.raises(DataError, match=r"Failing.harness_data_files failed: RuntimeError: no such folder"):
        digests.dataset_digest([Failing()])


def test_run_file_retriever_keys_by_content(tmp_path):
    from harness.testing import build
    from harness_plugins.retriever.run import RunFileRetriever

    path = tmp_path / "mine.trec"
    path.write_text("101 Q0 8 1 3.5 mine\n")
    payload = build(RunFileRetriever, {"path": str(path)}).cache_payload()
    moved = tmp_path / "moved.trec"
    shutil.copy(path, moved)
    assert build(RunFileRetriever, {"path": str(moved)}).cache_payload() == payload
    path.write_text("101 Q0 8 1 -3.5 mine\n")
    assert build(RunFileRetriever, {"path": str(path)}).cache_payload() != payload
    with pytest.raises(DataError, match=r"retriever=run: path=.*gone.trec: no such file"):
        build(RunFileRetriever, {"path": str(tmp_path / "gone.trec")}).cache_payload()


# -- verified entries ----------------------------------------------------------


def test_entry_carries_a_manifest_of_every_file(tmp_path):
    cache = StageCache(tmp_path)
    assert cache.json("stage", {"p": 1}, lambda: [1, 2]) == [1, 2]
    entry = only_entry(tmp_path, "stage")
    manifest = json.loads((entry / MANIFEST).read_text())
    assert set(manifest["files"]) == {"value.json", "cache-key.json"}
    assert manifest["files"]["value.json"]["size"] == len("[1, 2]")
    assert verify_entry(entry) == ""


@pytest.mark.parametrize("fault", ["flip", "truncate", "delete", "no-manifest", "extra-file", "bad-manifest"])
def test_a_damaged_entry_is_quarantined_and_recomputed(tmp_path, caplog, fresh_process, fault):
    value = {"101": {"d1": 12.0, "d2": 11.0}}
    compute, calls = counting(value)
    assert StageCache(tmp_path).json("rerank", {"p": 1}, compute) == value
    entry = only_entry(tmp_path, "rerank")
    {
        "flip": lambda: flip_byte(entry / "value.json", position=10),  # 12.0 -> 13.0: still valid JSON
        "truncate": lambda: (entry / "value.json").write_bytes((entry / "value.json").read_bytes()[:7]),
        "delete": lambda: (entry / "value.json").unlink(),
        "no-manifest": lambda: (entry / MANIFEST).unlink(),  # an entry of an older harness
        "extra-file": lambda: (entry / "stray.json").write_text("{}"),
        "bad-manifest": lambda: (entry / MANIFEST).write_text("{"),
    }[fault]()
    cache_module._verified.clear()  # a new process reads it
    cache = StageCache(tmp_path)
    with caplog.at_level(logging.WARNING, logger="harness.cache"):
        assert cache.json("rerank", {"p": 1}, compute) == value
    assert len(calls) == 2 and cache.stats == {"rerank.corrupt": 1, "rerank.miss": 1}
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"cache entry {entry} failed verification" in warning and "recomputing" in warning
    [quarantined] = (tmp_path / QUARANTINE).iterdir()
    assert quarantined.name.startswith(f"rerank-{entry.name[:16]}")
    assert verify_entry(entry) == "" and StageCache(tmp_path).json("rerank", {"p": 1}, compute) == value
    assert len(calls) == 2


def test_json_never_raises_a_decode_error_even_with_a_matching_manifest(tmp_path, caplog, fresh_process):
    cache = StageCache(tmp_path)
    cache.json("retrieve", {"p": 1}, lambda: {"q": {"d": 1.0}})
    entry = only_entry(tmp_path, "retrieve")
    (entry / "value.json").write_text('{"q": {"d": 1.')  # truncated, and the manifest rewritten to match
    cache_module.write_manifest(entry)
    with caplog.at_level(logging.WARNING, logger="harness.cache"):
        assert StageCache(tmp_path).json("retrieve", {"p": 1}, lambda: {"q": {"d": 1.0}}) == {"q": {"d": 1.0}}
    assert "unreadable: JSONDecodeError" in caplog.text


def test_an_entry_is_hashed_once_per_process_and_again_when_it_changes(tmp_path, monkeypatch, fresh_process):
    hashed = []
    real = cache_module.sha256_file
    monkeypatch.setattr(cache_module, "sha256_file", lambda p: hashed.append(Path(p).name) or real(p))
    cache = StageCache(tmp_path)
    cache.json("stage", {"p": 1}, lambda: [1])
    written = len(hashed)  # the manifest's hashes
    for _ in range(10):  # a sweep of ten jobs in one process: no re-hashing
        StageCache(tmp_path).json("stage", {"p": 1}, lambda: [1])
    assert len(hashed) == written
    cache_module._verified.clear()  # another process
    StageCache(tmp_path).json("stage", {"p": 1}, lambda: [1])
    StageCache(tmp_path).json("stage", {"p": 1}, lambda: [1])
    assert len(hashed) == written + 2  # value.json and cache-key.json, once
    entry = only_entry(tmp_path, "stage")
    (entry / "value.json").write_text("[2]")  # changed after it was verified, in this same process
    assert StageCache(tmp_path).json("stage", {"p": 1}, lambda: [1]) == [1]


def test_use_cache_false_replaces_the_entry_with_a_verified_one(tmp_path):
    StageCache(tmp_path).json("stage", {"p": 1}, lambda: [1])
    assert StageCache(tmp_path, enabled=False).json("stage", {"p": 1}, lambda: [2]) == [2]
    entry = only_entry(tmp_path, "stage")
    assert verify_entry(entry) == "" and json.loads((entry / "value.json").read_text()) == [2]
    assert [p.name for p in (tmp_path / "stage").iterdir()] == [entry.name]


def test_stage_names_cannot_leave_the_cache(tmp_path):
    for stage in ("../outside", ".quarantine", "a/b", ""):
        with pytest.raises(PluginError, match="stage name"):
            StageCache(tmp_path / "cache").json(stage, {}, lambda: 1)
    assert not (tmp_path / "outside").exists() and not (tmp_path / "cache").exists()


# -- leftovers of dead writers -----------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from harness.cache import StageCache

def compute():
    Path(sys.argv[2]).write_text("building")
    time.sleep(120)
    return 1

StageCache(Path(sys.argv[1])).json("stage", {"slow": True}, compute)
"""


def start_writer(root: Path, marker: Path) -> subprocess.Popen:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert writer.poll() is None and time.monotonic() < deadline, "the writer did not start building"
        time.sleep(0.05)
    return writer


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "stage").iterdir() if p.name.startswith(".tmp-"))


@pytest.mark.slow
def test_a_killed_writers_folder_is_removed_and_a_live_ones_is_kept(tmp_path, fresh_process):
    dead = start_writer(tmp_path, tmp_path / "dead-started")
    dead.send_signal(signal.SIGKILL)
    dead.wait()
    killed = leftovers(tmp_path)
    assert len(killed) == 2 and killed[1] == killed[0] + ".lock"  # its folder and its lock
    live = start_writer(tmp_path, tmp_path / "live-started")
    try:
        running = [name for name in leftovers(tmp_path) if name not in killed]
        assert StageCache(tmp_path).json("stage", {"other": 1}, lambda: 2) == 2  # sweeps the stage folder
        assert leftovers(tmp_path) == running  # the dead writer's gone, the live writer's untouched
    finally:
        live.send_signal(signal.SIGKILL)
        live.wait()


def test_leftovers_without_a_lock_go_only_when_a_day_old(tmp_path, fresh_process):
    stage = tmp_path / "stage"
    old, recent = stage / ".tmp-0123456789ab-old", stage / ".tmp-0123456789ab-new"
    for folder in (old, recent):
        folder.mkdir(parents=True)
        (folder / "value.json").write_text("[")
    two_days = time.time() - 2 * 24 * 3600
    for path in (old / "value.json", old):
        os.utime(path, (two_days, two_days))
    StageCache(tmp_path).json("stage", {"p": 1}, lambda: 1)
    assert leftovers(tmp_path) == [recent.name]


def test_a_held_lock_keeps_its_folder(tmp_path, fresh_process):
    import fcntl

    stage = tmp_path / "stage"
    held = stage / ".tmp-0123456789ab.1@elsewhere.abc"
    held.mkdir(parents=True)
    with open(held.with_name(held.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a writer in another pid namespace: its pid means nothing here
        StageCache(tmp_path).json("stage", {"p": 1}, lambda: 1)
        assert held.is_dir()
