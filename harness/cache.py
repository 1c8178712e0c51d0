"""A content-addressed stage cache.

An entry's key hashes the stage's config, the keys of everything upstream, the
dataset and the code version. Entries are folders built under a temporary
name and renamed into place, so a reader never sees a partial entry and two
jobs racing for one key both end with the same complete entry.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger(__name__)


def stable_hash(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def code_version(obj: Any) -> str:
    """Hash of the source file that defines ``obj``: editing a plugin invalidates its entries."""
    import harness

    try:
        defines = inspect.isclass(obj) or inspect.ismodule(obj) or inspect.isfunction(obj) or inspect.ismethod(obj)
        source = Path(inspect.getfile(obj if defines else type(obj)))
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    except (TypeError, OSError):
        digest = "unknown"
    return f"{harness.__version__}:{digest}"


class StageCache:
    def __init__(self, root: Path, enabled: bool = True):
        self.root = Path(root)
        self.enabled = enabled
        self.stats: Counter[str] = Counter()

    def key(self, stage: str, payload: Any) -> str:
        return stable_hash({"stage": stage, "payload": payload})

    def directory(self, stage: str, payload: Any, build: Callable[[Path], None]) -> Path:
        """Return the folder of the entry for ``payload``, building it with ``build(folder)`` if absent."""
        key = self.key(stage, payload)
        final = self.root / stage / key
        if self.enabled and final.is_dir():
            self.stats[f"{stage}.hit"] += 1
            logger.info("cache hit: %s %s", stage, key[:12])
            return final
        self.stats[f"{stage}.miss"] += 1
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".tmp-{key[:12]}-"))
        try:
            build(tmp)
            (tmp / "cache-key.json").write_text(json.dumps({"stage": stage, "payload": payload},
                                                           indent=1, sort_keys=True, default=str))
            if not self.enabled:
                shutil.rmtree(final, ignore_errors=True)
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
            logger.info("cache: another job wrote %s %s first; using its entry", stage, key[:12])
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return final

    def json(self, stage: str, payload: Any, compute: Callable[[], Any]) -> Any:
        """A JSON-serialisable value, computed once per ``payload``."""
        folder = self.directory(stage, payload, lambda tmp: _write_json(tmp / "value.json", compute()))
        return json.loads((folder / "value.json").read_text())

    def summary(self) -> str:
        return ", ".join(f"{name}={count}" for name, count in sorted(self.stats.items())) or "unused"


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value))
