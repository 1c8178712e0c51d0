"""A Hydra callback that totals a sweep's jobs and their stage-cache statistics.

Each job logs its own cache statistics; with parallel launchers they are
scattered over processes, so each job of a sweep leaves a small record
(:data:`RECORD`) in its Hydra job folder, and at the end of the sweep this reads
those records and logs one line such as
``sweep: 3 jobs (2 run, 1 resumed) in 9.1 s; stage cache: retrieve.hit=1, retrieve.miss=1``.
It counts jobs, not run folders: a resumed job counts as resumed, and its cache
statistics (those of the earlier run) are left out.
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

RECORD = "harness-job.json"


def record_job(job_dir: Path, roots: list[Path], result: Any) -> None:
    """Leave the job's outcome in its Hydra job folder (inside ``roots``) for the sweep summary."""
    from harness.outputs import write_json
    from harness.runs.paths import inside

    path = inside(Path(job_dir) / RECORD, roots, "write the sweep job record")
    resumed = bool(result.info.get("resumed"))
    write_json(
        path, {"run_dir": str(result.run_dir), "resumed": resumed, "cache": {} if resumed else dict(result.info.get("cache", {}))}
    )


def job_totals(sweep_dir: Path, since: float) -> tuple[int, int, Counter]:
    """Jobs run, jobs resumed and summed cache statistics of the records written after ``since``."""
    ran, resumed, totals = 0, 0, Counter[str]()
    for path in sorted(Path(sweep_dir).rglob(RECORD)):
        if path.stat().st_mtime < since:
            continue  # a record of an earlier sweep into the same folder
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("sweep: unreadable job record %s (%s); not counted", path, exc)
            continue
        resumed += bool(record.get("resumed"))
        ran += not record.get("resumed")
        totals.update(record.get("cache", {}))
    return ran, resumed, totals


class SweepSummary(Callback):
    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        self.started = time.time()

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        started = getattr(self, "started", 0.0)
        ran, resumed, totals = job_totals(Path(config.hydra.sweep.dir), started)
        stats = ", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "none"
        logger.info(
            "sweep: %d jobs (%d run, %d resumed) in %.1f s; stage cache: %s",
            ran + resumed,
            ran,
            resumed,
            time.time() - (started or time.time()),
            stats,
        )
