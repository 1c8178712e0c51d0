"""Content digests of data files, model folders and datasets, for stage-cache keys.

A cache key must change when the data a stage reads changes, and only then:
moving the data elsewhere keeps its keys, editing one byte changes them. So
keys hold the sha256 of file contents, never paths, sizes or mtimes. Hashing
is streamed and done once per file per process: a digest is remembered under
the file's (resolved path, size, mtime_ns, inode), so a multi-GB collection is
hashed again only after it changed.

A dataset's digest covers every file its ir_datasets handlers read: the
download objects they hold (``harness.data.irds.LocalFile``, ir_datasets' own
``Cache``, ``Download``, ``TarExtractAll``... anything with a local
``path()``), found by walking the handlers, plus the files a plugin declares
with the attribute ``harness_data_files`` (see docs/plugins.md) on any object
the walk meets (the dataset, a handler, an object a handler holds).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import sys
import threading
import types
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from harness.errors import DataError

logger = logging.getLogger(__name__)

DATA_FILES = "harness_data_files"
# Model files that change what a checkpoint computes (weights, configs, tokenizers);
# READMEs and hidden files do not.
MODEL_SUFFIXES = frozenset(
    {".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".json", ".txt", ".model", ".tiktoken", ".msgpack", ".h5", ".npy"}
)
_WALK_LIMIT = 5000  # objects visited per dataset: handlers are a few dozen
_CONTAINER_LIMIT = 256  # larger containers hold records, not handlers

_STDLIB = frozenset(sys.stdlib_module_names) | {"builtins"}

_memo: dict[tuple, str] = {}
_lock = threading.Lock()


def sha256_file(path: os.PathLike | str) -> str:
    """sha256 of a file's bytes, streamed in 1 MiB blocks (no memo)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _signature(path: Path) -> tuple:
    stat = path.stat()
    return str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino


def file_digest(path: os.PathLike | str) -> str:
    """sha256 of a file's contents, hashed once per process while the file is unchanged."""
    resolved = Path(path).resolve()
    for _ in range(3):
        before = _signature(resolved)
        with _lock:
            known = _memo.get(before)
        if known:
            return known
        digest = sha256_file(resolved)
        if _signature(resolved) == before:  # not written to while it was read
            with _lock:
                _memo[before] = digest
            return digest
    raise DataError(f"{resolved}: the file keeps changing while it is read; stop the process writing it")


def folder_digest(folder: os.PathLike | str, suffixes: Optional[frozenset[str]] = None) -> str:
    """Digest of the files under ``folder`` (those ending in ``suffixes``; all when None) by name and content."""
    root = Path(folder)
    digest = hashlib.sha256()
    for path in _files(root, suffixes):
        digest.update(f"{path.relative_to(root).as_posix()}\0{file_digest(path)}\n".encode())
    return digest.hexdigest()


def _files(root: Path, suffixes: Optional[frozenset[str]]) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root).parts
        if any(part.startswith(".") for part in relative) or not path.is_file():
            continue
        if suffixes is None or path.suffix in suffixes:
            found.append(path)
    return sorted(found)


def model_folder_digest(folder: os.PathLike | str) -> str:
    """Digest of a model folder's weight, config and tokenizer files."""
    return folder_digest(folder, MODEL_SUFFIXES)


def path_digest(path: os.PathLike | str) -> str:
    """``file:<sha>`` / ``folder:<digest>`` of what exists at ``path``; ``missing:<path>`` when nothing does."""
    target = Path(path)
    if target.is_file():
        return f"file:{file_digest(target)}"
    if target.is_dir():
        return f"folder:{folder_digest(target)}"
    return f"missing:{target.resolve()}"


def dataset_digest(dataset: Any) -> Optional[str]:
    """Digest of every file ``dataset`` (or one of its handlers) reads; None when no file could be found."""
    parts = list(dict.fromkeys(data_sources(dataset)))
    if not parts:
        return None
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def data_sources(root: Any) -> list[str]:
    """One digest string per data source found from ``root``, in walk order."""
    found: list[str] = []
    seen: set[int] = set()
    stack = [root]
    while stack and len(seen) < _WALK_LIMIT:
        obj = stack.pop()
        if id(obj) in seen or _is_leaf(obj):
            continue
        seen.add(id(obj))
        found.extend(path_digest(p) for p in _declared(obj))
        source = _download_source(obj)
        if source is not None:
            found.append(source)
            continue  # its file covers everything behind it
        stack.extend(reversed(list(_children(obj))))
    if stack:
        logger.debug("data digest: stopped after %d objects under %r", len(seen), root)
    return found


def _is_leaf(obj: Any) -> bool:
    """Values that hold no handler: scalars, paths, classes, modules, and objects of the standard library."""
    if isinstance(obj, (functools.partial, list, tuple, dict)):
        return False
    if obj is None or isinstance(obj, (str, bytes, int, float, bool, Path, type, types.ModuleType)):
        return True
    return type(obj).__module__.partition(".")[0] in _STDLIB


def _declared(obj: Any) -> list[Path]:
    """The files a plugin declares with ``harness_data_files`` (paths, or a callable returning them)."""
    own = getattr(obj, "__dict__", {})
    if DATA_FILES not in own and not hasattr(type(obj), DATA_FILES):
        return []
    value = getattr(obj, DATA_FILES)
    try:
        paths = value() if callable(value) else value
        return [Path(p) for p in paths]
    except Exception as exc:  # a plugin's declaration: say whose
        raise DataError(
            f"{type(obj).__module__}.{type(obj).__qualname__}.{DATA_FILES} failed: {type(exc).__name__}: {exc}"
        ) from None


def _download_source(obj: Any) -> Optional[str]:
    """The digest of a download object's local file (ir_datasets or harness), or None for other objects."""
    from ir_datasets.util import BaseDownload
    from ir_datasets.util.fileio import PackageDataFile, StringFile

    module = type(obj).__module__
    if not (isinstance(obj, BaseDownload) or module.startswith("ir_datasets.util")):
        return None
    if isinstance(obj, (StringFile, PackageDataFile)):  # bytes in memory or in a package: hash them
        with obj.stream() as stream:
            return f"bytes:{hashlib.sha256(stream.read()).hexdigest()}"
    if callable(getattr(type(obj), "path", None)):
        try:
            local = obj.path(force=False)  # never download or extract just to hash
        except (TypeError, OSError, DataError):
            return None
        if isinstance(local, (str, os.PathLike)) and str(local) != os.devnull:
            return path_digest(local)
    return None


def _children(obj: Any) -> Iterator[Any]:
    if isinstance(obj, functools.partial):
        yield from (*obj.args, *obj.keywords.values())
    elif isinstance(obj, (list, tuple)):
        if len(obj) <= _CONTAINER_LIMIT:
            yield from obj
    elif isinstance(obj, dict):
        if len(obj) <= _CONTAINER_LIMIT:
            yield from obj.values()
    else:  # sets are leaves of the standard library: unordered, they would make the digest depend on hashing
        yield from _attributes(obj)


def _attributes(obj: Any) -> Iterable[Any]:
    try:
        return list(vars(obj).values())
    except TypeError:  # no __dict__ (slots, C types)
        return []
