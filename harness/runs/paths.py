"""Where the harness may write and delete: strictly inside ``results_dir`` or ``cache_dir``.

Config names become folder names (``results/<experiment>/<run>/``). A name that
would be the folder itself or its parent (``.``, ``..``), a hidden file, an
absolute path or nothing at all is refused before anything is written; other
odd characters are replaced as before (``safe_name``), so the folders of valid
names are unchanged. Every folder the harness writes into or removes is
checked, after resolving symlinks, to lie below one of its roots.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Mapping

from harness.errors import ConfigError, PathError
from harness.outputs import safe_name

MAX_NAME_BYTES = 255  # one file name on common file systems (ext4, APFS, NTFS)


def name_problem(value: object) -> str | None:
    """Why ``value`` cannot name a folder, or None where it can."""
    if not isinstance(value, str):
        return f"must be text, not {type(value).__name__}"
    if not value.strip():
        return "is empty"
    if value.startswith(("/", "\\")) or Path(value).is_absolute():
        return "is an absolute path"
    if any(part in (".", "..") for part in re.split(r"[/\\]", value)):
        return "is or contains '.' or '..' (a folder itself or its parent)"
    folder = safe_name(value)
    if folder.startswith("."):
        return f"would be the hidden folder name {folder!r} (leading '.')"
    if len(folder.encode()) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes as a folder name"
    return None


def folder_name(key: str, value: object) -> str:
    """The folder name of the config name ``key=value``; a ConfigError naming both if it cannot be one."""
    problem = name_problem(value)
    if problem:
        raise ConfigError(
            f"{key}={value!r} {problem}: it names a folder under results_dir/; use letters, "
            "digits and _ . + = - (not a leading '.')"
        )
    return safe_name(str(value))  # a str: name_problem refused anything else


def check_names(config: Mapping[str, object]) -> None:
    """Refuse a bad ``experiment_name`` or ``run_name`` (None: the default run name) before any work."""
    folder_name("experiment_name", config.get("experiment_name"))
    if config.get("run_name") is not None:
        folder_name("run_name", config["run_name"])


def inside(path: Path, roots: Iterable[Path], action: str) -> Path:
    """``path`` resolved (symlinks followed) if it lies strictly below one of ``roots``; else a PathError."""
    resolved = Path(path).resolve()
    allowed = [Path(root).resolve() for root in roots]
    if any(root in resolved.parents for root in allowed):
        return resolved
    where = " or ".join(str(root) for root in allowed)
    raise PathError(f"refusing to {action} {path} (resolves to {resolved}): it is not inside {where}")


def run_folder(results_dir: Path, experiment_name: object, run_name: object) -> Path:
    """``results_dir/<experiment>/<run>``, names checked, resolved and inside ``results_dir``."""
    folder = Path(results_dir) / folder_name("experiment_name", experiment_name) / folder_name("run_name", run_name)
    return inside(folder, [results_dir], "write the run folder")


def experiment_folder(results_dir: Path, experiment_name: object, key: str = "experiment_name") -> Path:
    """``results_dir/<experiment>``, the name (given as ``key``) checked, resolved and inside ``results_dir``."""
    return inside(Path(results_dir) / folder_name(key, experiment_name), [results_dir], "write into the experiment folder")
