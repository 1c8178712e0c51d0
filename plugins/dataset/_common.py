"""What the dataset plugins share."""

from __future__ import annotations

from pathlib import Path

from harness.errors import DataError


def existing(path: Path, dataset: str, hint: str) -> Path:
    """``path`` if it is a file, else a DataError naming the dataset, the path and ``hint``."""
    if not path.is_file():
        raise DataError(f"dataset '{dataset}': missing file {path}\n  {hint}")
    return path
