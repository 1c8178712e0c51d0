"""A Hydra callback that totals the stage-cache statistics of a sweep's jobs.

Each job logs its own cache statistics; with parallel launchers they are
scattered over processes, so at the end of a sweep this reads the run folders
written during the sweep and logs one line such as
``sweep: 3 jobs ... retrieve.hit=2, retrieve.miss=1``.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

logger = logging.getLogger("harness.sweep")


def cache_totals(results_dir: Path, since: float) -> tuple[int, Counter]:
    """Jobs and summed cache statistics of the run folders completed after ``since``."""
    jobs, totals = 0, Counter()
    for metrics in Path(results_dir).glob("*/*/metrics.json"):
        if metrics.stat().st_mtime < since:
            continue
        info = json.loads((metrics.parent / "run_info.json").read_text())
        jobs += 1
        totals.update(info.get("cache", {}))
    return jobs, totals


class SweepSummary(Callback):
    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        self.started = time.time()

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        jobs, totals = cache_totals(Path(config.results_dir), getattr(self, "started", 0.0))
        seconds = time.time() - getattr(self, "started", time.time())
        stats = ", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "none"
        logger.info("sweep: %d jobs run in %.1f s (jobs skipped by resume not counted); stage cache: %s",
                    jobs, seconds, stats)
