"""A run's output folder: results/<experiment>/<run>/ with metrics, run, config.

A job marks the folder it starts with :data:`MARKER` (its config hash, pid,
host and start time) and writes ``metrics.json`` last: marker without metrics
is an unfinished run of the harness's own, the only kind resume may remove.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from harness.errors import PathError
from harness.data.trec_io import write_run

MARKER = ".harness-run.json"


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+=-]+", "_", text).strip("_") or "run"


def write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


def write_json(path: Path, value: Any) -> None:
    write_text_atomic(path, json.dumps(value, indent=2, sort_keys=False) + "\n")


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """``{'a': {'b': 1}}`` -> ``{'a.b': '1'}``; lists become JSON text (MLflow params are strings)."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, (list, tuple)) else str(value)
    return flat


def is_run_folder(run_dir: Path) -> bool:
    """Whether ``run_dir`` is a folder the harness may write into: marked, empty, or a complete run folder
    of a version from before the marker (its ``run_info.json`` carries the config hash)."""
    if not run_dir.is_dir():
        return False
    if (run_dir / MARKER).is_file() or not any(run_dir.iterdir()):
        return True
    try:
        info = json.loads((run_dir / "run_info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and "harness.config_hash" in (info.get("tags") or {})


def start_run_folder(run_dir: Path, config_hash: str) -> None:
    """Claim ``run_dir`` for a job of ``config_hash``: refuse a folder the harness did not make, then mark it."""
    if run_dir.exists() and not is_run_folder(run_dir):
        raise PathError(
            f"{run_dir} exists and is not a harness run folder (no {MARKER}): refusing to write "
            "into it; move it away or choose another run_name / experiment_name"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    # A finished folder being redone stops looking finished before any of its files is rewritten.
    (run_dir / "metrics.json").unlink(missing_ok=True)
    marker = {
        "config_hash": config_hash,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    # A plain write on purpose: the marker counts from the moment it exists, even if a kill truncates it.
    (run_dir / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")


def read_marker(run_dir: Path) -> dict[str, Any]:
    """The marker's record (empty if it was cut short); only for messages."""
    try:
        found = json.loads((run_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def write_run_folder(
    run_dir: Path,
    *,
    metrics: Mapping[str, float],
    per_query: Mapping[str, Mapping[str, float]],
    run: Mapping[str, Mapping[str, float]],
    config_yaml: str,
    info: Mapping[str, Any],
) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run(run, run_dir / "run.trec", tag=safe_name(run_dir.name))
    write_text_atomic(run_dir / "config.yaml", config_yaml)
    write_json(run_dir / "per_query.json", per_query)
    write_json(run_dir / "run_info.json", info)
    # metrics.json last: its presence marks a complete run folder.
    write_json(run_dir / "metrics.json", dict(metrics))
    return run_dir
