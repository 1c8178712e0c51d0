"""Parallel jobs racing for one stage-cache key all end with the same complete, verified entry."""

from __future__ import annotations

import multiprocessing
import queue
import time
from pathlib import Path

import pytest

from harness.cache import MANIFEST, QUARANTINE, StageCache, verify_entry

pytestmark = pytest.mark.slow  # real writer processes (spawn), each importing the harness


def build_entry(root: str, barrier=None, answers=None) -> list:
    def compute():
        time.sleep(1.0)  # every writer is inside compute at once: a real race
        return [multiprocessing.current_process().name, list(range(1000))]

    if barrier is not None:
        barrier.wait(timeout=120)  # all start together, whatever their start-up time
    cache = StageCache(Path(root))
    value = cache.json("stage", {"same": "payload"}, compute)
    if answers is not None:
        answers.put([value, dict(cache.stats)])
    return [value, dict(cache.stats)]


def race(root: Path, writers: int) -> list:
    """``writers`` real processes build one key at the same moment; their (value, stats)."""
    spawn = multiprocessing.get_context("spawn")
    barrier, answers = spawn.Barrier(writers), spawn.Queue()
    jobs = [spawn.Process(target=build_entry, args=(str(root), barrier, answers), name=f"writer-{i}") for i in range(writers)]
    for job in jobs:
        job.start()
    results, deadline = [], time.monotonic() + 180
    while len(results) < writers:
        crashed = [job.name for job in jobs if job.exitcode not in (None, 0)]
        assert not crashed and time.monotonic() < deadline, f"writers crashed or hung: {crashed}"
        try:
            results.append(answers.get(timeout=0.5))
        except queue.Empty:
            continue
    for job in jobs:
        job.join(timeout=60)
        assert job.exitcode == 0
    return results


def only_entry(root: Path) -> Path:
    entries = list((root / "stage").iterdir())
    assert len(entries) == 1 and not entries[0].name.startswith(".tmp"), entries  # no leftover folder or lock
    return entries[0]


def test_racing_jobs_share_one_complete_entry(tmp_path):
    answers = race(tmp_path, 4)
    values = [value for value, _ in answers]
    # Whoever renamed first won; every job reads the winner's entry, never a partial one.
    assert all(value == values[0] for value in values)
    entry = only_entry(tmp_path)
    assert (entry / "value.json").exists() and (entry / "cache-key.json").exists()
    # A later job is served from the cache.
    assert build_entry(str(tmp_path))[1] == {"stage.hit": 1}


@pytest.mark.parametrize("writers", [2, 3])
def test_two_and_three_writers_end_with_one_verified_entry(tmp_path, writers):
    answers = race(tmp_path, writers)
    assert len({repr(value) for value, _ in answers}) == 1
    assert all(stats == {"stage.miss": 1} for _, stats in answers)  # all computed; none saw a partial entry
    entry = only_entry(tmp_path)
    assert (entry / MANIFEST).is_file() and verify_entry(entry) == ""


def test_three_writers_replace_one_corrupt_entry(tmp_path):
    build_entry(str(tmp_path))
    entry = only_entry(tmp_path)
    (entry / "value.json").write_text('["a forged value"]')
    answers = race(tmp_path, 3)
    values = {repr(value) for value, _ in answers}
    assert len(values) == 1 and "forged" not in values.pop()
    assert verify_entry(only_entry(tmp_path)) == ""
    assert len(list((tmp_path / QUARANTINE).iterdir())) >= 1  # the forged entry is kept aside, not served
