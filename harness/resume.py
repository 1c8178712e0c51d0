"""Resume: a re-run sweep skips the jobs that already finished and redoes the rest.

A job is done when both records of it are complete: its run folder holds
``metrics.json`` (written last, see :mod:`harness.outputs`) for the same config
hash, and, where the tracker can be asked, a FINISHED tracked run carries that
hash in its ``harness.config_hash`` tag. Anything else is redone: first the
leftovers of a killed job are retired (its tracked runs still marked RUNNING
become KILLED, its unfinished run folder is removed), so no half-written
result survives and no killed run looks successful.

Only the harness's own unfinished folders are removed: one carrying its marker
(:data:`harness.outputs.MARKER`), without ``metrics.json``, inside
``results_dir``. A folder without the marker, or the finished run of another
config at the job's path, stops the job with an error naming the folder.

Trackers opt in by duck typing (``find_runs`` and ``set_status``, as the MLflow
tracker has); with a tracker that has neither, only the run folder counts.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any, Mapping, Protocol

from harness.errors import PathError
from harness.outputs import MARKER, read_marker
from harness.runs.paths import inside

logger = logging.getLogger(__name__)

STALE = "RUNNING"  # a run still RUNNING when its job is redone was killed
RETIRED = "KILLED"


class Resumable(Protocol):
    """What resume asks of a tracker (declared, with defaults, on ``harness.components.Tracker``)."""

    def find_runs(self, experiment: str, config_hash: str) -> list[Mapping[str, str]] | None:
        """Tracked runs of ``experiment`` tagged with ``config_hash``: ``{'run_id', 'status'}`` each."""

    def set_status(self, run_id: str, status: str) -> None:
        """Close a run with ``status`` (e.g. KILLED)."""


def resume_enabled(setting: bool | None, multirun: bool) -> bool:
    """``resume: null`` (the default) resumes sweeps and reruns single experiments."""
    return multirun if setting is None else bool(setting)


def folder_hash(run_dir: Path) -> str | None:
    """The config hash of a *complete* run folder, else None."""
    if not (run_dir / "metrics.json").is_file():
        return None
    try:
        info = json.loads((run_dir / "run_info.json").read_text())
    except (OSError, ValueError):
        return None
    return info.get("tags", {}).get("harness.config_hash")


def tracked_runs(tracker: Resumable, experiment: str, digest: str) -> list[Mapping[str, str]] | None:
    """The tracker's runs for ``digest``, or None where the tracker cannot be asked (``Tracker.find_runs``)."""
    runs = tracker.find_runs(experiment, digest)
    return None if runs is None else list(runs)


def is_done(run_dir: Path, digest: str, runs: list[Mapping[str, str]] | None) -> bool:
    if folder_hash(run_dir) != digest:
        return False
    return runs is None or any(run["status"] == "FINISHED" for run in runs)


def retire(tracker: Resumable, run_dir: Path, digest: str, runs: list[Mapping[str, str]] | None, results_dir: Path) -> None:
    """Clear what a killed job of ``digest`` left behind before it is redone."""
    for run in runs or []:
        if run["status"] == STALE:
            logger.warning(
                "resume: tracked run %s of config %s was left %s by a killed job; marking it %s",
                run["run_id"],
                digest[:8],
                STALE,
                RETIRED,
            )
            tracker.set_status(run["run_id"], RETIRED)
    if not run_dir.exists():
        return
    if (run_dir / "metrics.json").is_file():
        _check_same_config(run_dir, digest)  # finished but not tracked as such: redone in place
    elif (run_dir / MARKER).is_file():
        _remove_unfinished(run_dir, results_dir)
    elif not run_dir.is_dir() or any(run_dir.iterdir()):
        raise PathError(
            f"resume: {run_dir} is in the way of this job and has no {MARKER}: the harness did not "
            "start it, so it is not removed; move it away or choose another run_name / experiment_name"
        )


def _check_same_config(run_dir: Path, digest: str) -> None:
    found = folder_hash(run_dir)
    if found != digest:
        held = f"config {found[:8]}" if found else "a config without a readable run_info.json"
        raise PathError(
            f"resume: {run_dir} holds the finished run of {held}, not of this job's config "
            f"{digest[:8]}: resume does not overwrite it; give this job another run_name, "
            "or remove the folder yourself"
        )


def _remove_unfinished(run_dir: Path, results_dir: Path) -> None:
    inside(run_dir, [results_dir], "remove the unfinished run folder")
    marker = read_marker(run_dir)
    logger.warning(
        "resume: removing the unfinished run folder %s (config %s, started %s by pid %s on %s)",
        run_dir,
        str(marker.get("config_hash", "?"))[:8],
        marker.get("started", "?"),
        marker.get("pid", "?"),
        marker.get("host", "?"),
    )
    shutil.rmtree(run_dir)


def load_result(run_dir: Path) -> tuple[dict[str, float], dict[str, dict[str, float]], dict[str, Any]]:
    """Metrics, per-query scores and info of a complete run folder."""
    read = lambda name: json.loads((run_dir / name).read_text())  # noqa: E731
    return read("metrics.json"), read("per_query.json"), read("run_info.json")
