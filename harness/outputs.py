"""A run's output folder: results/<experiment>/<run>/ with metrics, run, config."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Mapping

from harness.trec_io import write_run


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


def write_run_folder(run_dir: Path, *, metrics: Mapping[str, float], per_query: Mapping[str, Mapping[str, float]],
                     run: Mapping[str, Mapping[str, float]], config_yaml: str, info: Mapping[str, Any]) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run(run, run_dir / "run.trec", tag=safe_name(run_dir.name))
    write_text_atomic(run_dir / "config.yaml", config_yaml)
    write_json(run_dir / "per_query.json", per_query)
    write_json(run_dir / "run_info.json", info)
    # metrics.json last: its presence marks a complete run folder.
    write_json(run_dir / "metrics.json", dict(metrics))
    return run_dir
