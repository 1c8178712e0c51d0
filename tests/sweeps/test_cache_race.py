"""Parallel jobs racing for one stage-cache key all end with the same complete entry."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from harness.cache import StageCache


def build_entry(root: str) -> list:
    def compute():
        time.sleep(0.3)  # every worker is inside compute at once: a real race
        return [multiprocessing.current_process().name, list(range(1000))]

    cache = StageCache(Path(root))
    value = cache.json("stage", {"same": "payload"}, compute)
    return [value, dict(cache.stats)]


def test_racing_jobs_share_one_complete_entry(tmp_path):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        answers = pool.map(build_entry, [str(tmp_path)] * 4)
    values = [value for value, _ in answers]
    # Whoever renamed first won; every job reads the winner's entry, never a partial one.
    assert all(value == values[0] for value in values)
    entries = list((tmp_path / "stage").iterdir())
    assert len(entries) == 1 and not entries[0].name.startswith(".tmp")
    assert (entries[0] / "value.json").exists() and (entries[0] / "cache-key.json").exists()
    # A later job is served from the cache.
    assert build_entry(str(tmp_path))[1] == {"stage.hit": 1}
