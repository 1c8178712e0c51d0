"""The numbered lines of a data file, decoded strictly: bad UTF-8 names file, line and byte offset.

Python's text mode decodes in 8 KB chunks, so its UnicodeDecodeError names
neither the line nor the file; reading bytes and decoding line by line does.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import IO, Any, Iterator

from harness.errors import DataError, FormatError

BOM = "\ufeff"


def numbered_lines(path: Path, handle: IO | None = None) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of every line of ``path`` (or of ``handle``, a stream of it).

    ``handle`` may be binary, or a text wrapper (its byte buffer is read).
    A UTF-8 byte-order mark at the start of the file is dropped.
    """
    source = _open(path) if handle is None else getattr(handle, "buffer", handle)
    offset = 0
    with source:
        for number, raw in enumerate(source, start=1):
            text = raw if isinstance(raw, str) else _decode(path, number, offset, raw)
            offset += len(raw)
            yield number, text[1:] if number == 1 and text.startswith(BOM) else text


def _open(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def _decode(path: Path, number: int, offset: int, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        column = len(raw[: exc.start].decode("utf-8", errors="replace")) + 1
        raise FormatError(
            path,
            number,
            f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at column {column} (byte offset {offset + exc.start} in the file)",
            raw.decode("utf-8", errors="backslashreplace"),
        ) from None


class CheckedUtf8(io.RawIOBase):
    """A binary stream of ``path`` that checks each line is UTF-8 as it is read.

    For readers we do not own (ir_datasets' TSV parsers wrap a stream in
    ``io.TextIOWrapper``): a bad byte then raises :class:`FormatError` with file,
    line and byte offset instead of a bare UnicodeDecodeError from some 8 KB chunk.
    """

    def __init__(self, path: Path, handle: IO[bytes]):
        self._path, self._handle = path, handle
        self._pending, self._number, self._offset = b"", 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self._pending:
            line = self._handle.readline()
            if not line:
                return 0
            self._number += 1
            _decode(self._path, self._number, self._offset, line)
            self._offset += len(line)
            self._pending = line
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        self._handle.close()
        super().close()


def checked_stream(path: Path) -> IO[bytes]:
    """``path`` opened for reading as bytes, UTF-8 checked line by line (see :class:`CheckedUtf8`)."""
    return io.BufferedReader(CheckedUtf8(path, _open(path)))


def json_object(path: Path, number: int, line: str) -> dict[str, Any]:
    """Line ``number`` of a JSONL file as a JSON object, or a FormatError naming file, line and what is wrong."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FormatError(path, number, f"not valid JSON: {exc.msg} at column {exc.colno}", line) from None
    if not isinstance(item, dict):
        raise FormatError(path, number, f"expected a JSON object, got {type(item).__name__}", line)
    return item
