"""A content-addressed, verified stage cache.

An entry's key hashes the stage's config, the keys of everything upstream, the
content digest of the data it reads (``harness.cache.digests``) and the code
version. An entry is a folder ``<root>/<stage>/<key>/`` holding the stage's
files, ``cache-key.json`` (the payload) and ``manifest.json`` (sha256 and size
of every other file). It is built under a temporary name and renamed into
place, so a reader never sees a partial entry and jobs racing for one key all
end with the same complete entry.

The first read of an entry in a process checks it against its manifest (and
remembers it while its files' sizes, mtimes and inodes stay the same). An
entry that fails, or that its reader cannot parse, is a warning naming it:
it is moved to ``<root>/.quarantine/`` and the stage recomputed; it is never
served. A writer holds an exclusive lock (``flock``, released by the OS when
the process dies, whatever its pid namespace) on a file beside its temporary
folder: a later job removes the folders whose lock is free, never those of a
live writer; a folder with no lock (an older harness) goes after a day. The
cache writes and deletes nothing outside its root.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import inspect
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from harness.cache.digests import sha256_file
from harness.errors import PluginError

logger = logging.getLogger(__name__)
T = TypeVar("T")

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
KEY_FILE = "cache-key.json"
VALUE_FILE = "value.json"
QUARANTINE = ".quarantine"
TMP_PREFIX = ".tmp-"
LOCK_SUFFIX = ".lock"
PARTIAL_SUFFIX = ".lock-partial"
# Leftovers with no writer's lock to check (an older harness) go after a day.
STALE_SECONDS = 24 * 3600
_HOST = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "host"
_STAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

# Per process: entry folder -> signature of its files when it was verified; stage folders swept.
_verified: dict[str, tuple] = {}
_swept: set[str] = set()
_lock = threading.Lock()


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
        """The folder of the verified entry for ``payload``, built with ``build(folder)`` if absent or corrupt."""
        return self.entry(stage, payload, build, lambda folder: folder)

    def entry(self, stage: str, payload: Any, build: Callable[[Path], None], read: Callable[[Path], T]) -> T:
        """``read(folder)`` of the verified entry for ``payload``, built with ``build(folder)`` when needed.

        A cached entry that fails verification, or whose ``read`` raises (a
        file it cannot parse), is quarantined and built again; an error
        reading a freshly built entry propagates.
        """
        key = self.key(stage, payload)
        final = self._entry_path(stage, key)
        if self.enabled and final.is_dir():
            found = self._read_cached(stage, final, read)
            if found is not _ABSENT:
                self.stats[f"{stage}.hit"] += 1
                logger.info("cache hit: %s %s", stage, key[:12])
                return found
        self.stats[f"{stage}.miss"] += 1
        self._build(stage, payload, final, build)
        return read(final)

    def json(self, stage: str, payload: Any, compute: Callable[[], Any]) -> Any:
        """A JSON-serialisable value, computed once per ``payload``."""
        return self.entry(stage, payload, lambda tmp: _write_json(tmp / VALUE_FILE, compute()), _read_json)

    def summary(self) -> str:
        return ", ".join(f"{name}={count}" for name, count in sorted(self.stats.items())) or "unused"

    # -- reading -------------------------------------------------------------

    def _read_cached(self, stage: str, final: Path, read: Callable[[Path], T]) -> Any:
        try:
            seen = final.stat().st_ino
        except FileNotFoundError:  # quarantined by another job just now
            return _ABSENT
        problem = verify_entry(final)
        if not problem:
            try:
                return read(final)
            except Exception as exc:  # a verified file its reader cannot parse: recompute, never serve
                problem = f"unreadable: {type(exc).__name__}: {exc}"
        self.stats[f"{stage}.corrupt"] += 1
        self._quarantine(final, problem, seen)
        return _ABSENT

    def _quarantine(self, final: Path, problem: str, seen: int | None = None) -> None:
        """Move the entry ``final`` (the folder whose inode was ``seen`` when it was found bad) aside."""
        folder = self._inside(self.root / QUARANTINE)
        folder.mkdir(parents=True, exist_ok=True)
        target = Path(tempfile.mkdtemp(dir=folder, prefix=f"{final.parent.name}-{final.name[:16]}-"))
        with _lock:
            _verified.pop(str(final), None)
        try:
            os.rename(self._inside(final), target)  # onto the empty folder mkdtemp made: atomic
        except FileNotFoundError:  # another job moved it first
            target.rmdir()
        else:
            if seen is not None and target.stat().st_ino != seen:  # another job had replaced it meanwhile
                with contextlib.suppress(OSError):
                    os.rename(target, final)
                return
        logger.warning("cache entry %s failed verification (%s): moved to %s; recomputing it", final, problem, target)

    # -- writing -------------------------------------------------------------

    def _build(self, stage: str, payload: Any, final: Path, build: Callable[[Path], None]) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        self._sweep(final.parent)
        with self._writer_folder(final) as tmp:
            build(tmp)
            (tmp / KEY_FILE).write_text(json.dumps({"stage": stage, "payload": payload}, indent=1, sort_keys=True, default=str))
            write_manifest(tmp)
            self._publish(tmp, final)

    @contextlib.contextmanager
    def _writer_folder(self, final: Path) -> Iterator[Path]:
        """A fresh temporary folder beside ``final``, locked while this job uses it, removed after."""
        # The lock is taken under a name no sweeper reads, then renamed beside the folder it guards,
        # and the folder made only then: a sweeper never sees a folder whose live writer is not locked.
        # pid and host in the name are for people; the lock is what a later job checks.
        fd, partial = tempfile.mkstemp(
            dir=final.parent, suffix=PARTIAL_SUFFIX, prefix=f"{TMP_PREFIX}{final.name[:12]}.{os.getpid()}@{_HOST}."
        )
        with os.fdopen(fd, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            tmp = Path(partial[: -len(PARTIAL_SUFFIX)])
            lock = tmp.with_name(tmp.name + LOCK_SUFFIX)
            os.rename(partial, lock)
            try:
                tmp.mkdir()
                yield tmp
            finally:  # the folder goes before the lock does: a free lock means no live writer
                if tmp.exists():
                    shutil.rmtree(self._inside(tmp), ignore_errors=True)
                lock.unlink(missing_ok=True)

    def _publish(self, tmp: Path, final: Path) -> None:
        """Rename ``tmp`` into place; when another job got there first, use its entry if it verifies."""
        for _ in range(3):
            if not self.enabled and final.is_dir():
                self._discard(final)
            try:
                os.rename(tmp, final)
                remember_verified(final)
                return
            except OSError:
                if not final.is_dir():
                    raise
            try:
                seen = final.stat().st_ino
            except FileNotFoundError:  # quarantined by another job meanwhile: try again
                continue
            problem = verify_entry(final)
            if not problem:
                logger.info("cache: another job wrote %s first; using its entry", final)
                return
            self._quarantine(final, problem, seen)
        raise OSError(f"cache: could not publish {final}: other jobs keep replacing it")

    def _discard(self, final: Path) -> None:
        """Remove an entry being replaced (use_cache=false): renamed aside first, so no reader sees it half gone."""
        with self._writer_folder(final) as aside:
            try:
                os.rename(final, aside)  # onto the empty folder: atomic; removed when the block ends
            except FileNotFoundError:
                pass

    def _sweep(self, stage_folder: Path) -> None:
        """Remove the temporary folders of dead writers in ``stage_folder`` (once per process)."""
        with _lock:
            if str(stage_folder) in _swept:
                return
            _swept.add(str(stage_folder))
        # Other jobs' files come and go meanwhile: each check tolerates a file that just vanished.
        for leftover in stage_folder.glob(f"{TMP_PREFIX}*"):
            if leftover.name.endswith(PARTIAL_SUFFIX):  # a writer killed while taking its lock
                if _age(leftover) > STALE_SECONDS:
                    leftover.unlink(missing_ok=True)
            elif leftover.name.endswith(LOCK_SUFFIX):  # a lock whose folder is gone, or not made yet
                if not leftover.with_name(leftover.name[: -len(LOCK_SUFFIX)]).exists():
                    self._remove_if_abandoned(leftover.with_name(leftover.name[: -len(LOCK_SUFFIX)]))
            elif leftover.is_dir():
                self._remove_if_abandoned(leftover)

    def _remove_if_abandoned(self, tmp: Path) -> None:
        lock = tmp.with_name(tmp.name + LOCK_SUFFIX)
        if not lock.exists():
            if tmp.exists() and _age(tmp) > STALE_SECONDS:
                logger.info("cache: removing %s, a day-old temporary folder with no writer's lock", tmp)
                shutil.rmtree(self._inside(tmp), ignore_errors=True)
            return
        try:
            with open(lock, "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: its writer is gone
                if tmp.exists():
                    logger.info("cache: removing %s, left by a writer that is gone", tmp)
                    shutil.rmtree(self._inside(tmp), ignore_errors=True)
                lock.unlink(missing_ok=True)
        except (BlockingIOError, FileNotFoundError):  # a live writer holds it, or it just finished
            pass

    # -- paths ---------------------------------------------------------------

    def _entry_path(self, stage: str, key: str) -> Path:
        if not _STAGE_NAME.match(stage):
            raise PluginError(
                f"stage cache: stage name {stage!r} must be letters, digits, '_' or '-' (it names a folder inside the cache)"
            )
        return self.root / stage / key

    def _inside(self, path: Path) -> Path:
        """``path`` if it lies inside the cache root (checked before anything is moved or deleted)."""
        root = os.path.realpath(self.root)
        if os.path.commonpath([root, os.path.realpath(path)]) != root:
            raise PluginError(f"stage cache: refusing to touch {path}, which lies outside the cache {self.root}")
        return path


_ABSENT = object()


def entry_files(folder: Path) -> list[str]:
    """Relative paths of an entry's files, the manifest left out."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() != MANIFEST
    )


def write_manifest(folder: Path) -> None:
    files = {rel: {"sha256": sha256_file(folder / rel), "size": (folder / rel).stat().st_size} for rel in entry_files(folder)}
    (folder / MANIFEST).write_text(json.dumps({"version": MANIFEST_VERSION, "files": files}, indent=1, sort_keys=True))


def verify_entry(folder: Path) -> str:
    """Why ``folder`` is not a complete, intact entry ('' when it is)."""
    try:
        return _check_entry(folder)
    except OSError as exc:  # a file vanished or cannot be read while checked
        return f"unreadable: {exc}"


def _check_entry(folder: Path) -> str:
    files = _manifest(folder)
    if isinstance(files, str):
        return files
    present = entry_files(folder)
    signature = _signature(folder, present)
    with _lock:
        if _verified.get(str(folder)) == signature:
            return ""
    missing, extra = sorted(set(files) - set(present)), sorted(set(present) - set(files))
    if missing or extra:
        return f"missing file(s) {missing[:3]}" if missing else f"file(s) not in its manifest {extra[:3]}"
    for rel, expected in files.items():
        size = (folder / rel).stat().st_size
        if size != expected["size"]:
            return f"{rel} has {size} bytes, its manifest says {expected['size']} (truncated or overwritten)"
        if sha256_file(folder / rel) != expected["sha256"]:
            return f"{rel} does not match its checksum"
    with _lock:
        _verified[str(folder)] = signature
    return ""


def _manifest(folder: Path) -> dict | str:
    """The manifest's ``{file: {sha256, size}}``, or why there is none."""
    path = folder / MANIFEST
    if not path.is_file():
        return "no manifest.json (incomplete, or written by an older harness)"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = manifest["files"]
        if manifest["version"] == MANIFEST_VERSION and all(
            isinstance(v["sha256"], str) and isinstance(v["size"], int) for v in files.values()
        ):
            return files
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return "unreadable manifest.json"


def remember_verified(folder: Path) -> None:
    """Record a just-written entry as verified, so this process does not hash it again."""
    signature = _signature(folder, entry_files(folder))
    with _lock:
        _verified[str(folder)] = signature


def _signature(folder: Path, files: list[str]) -> tuple:
    stats = [(rel, (folder / rel).stat()) for rel in [*files, MANIFEST]]
    return tuple((rel, s.st_size, s.st_mtime_ns, s.st_ino) for rel, s in stats)


def _age(path: Path) -> float:
    """Seconds since anything in ``path`` last changed (0 when it vanished meanwhile: another job's)."""
    try:
        paths = [path, *path.rglob("*")] if path.is_dir() else [path]
        newest = max(p.stat().st_mtime for p in paths)
    except FileNotFoundError:
        return 0.0
    return time.time() - newest


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value), encoding="utf-8")


def _read_json(folder: Path) -> Any:
    return json.loads((folder / VALUE_FILE).read_text(encoding="utf-8"))
