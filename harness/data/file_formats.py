"""Documents and queries from plain files: TSV, JSONL or TREC SGML, detected by content or given.

- documents: TSV lines ``doc_id<TAB>text``; JSONL objects with ``doc_id`` (or
  ``id`` / ``_id``), ``text`` and an optional ``title``; TREC SGML
  ``<DOC><DOCNO>..</DOCNO><TEXT>..</TEXT></DOC>`` (see :mod:`harness.data.trec_sgml`);
- queries: TSV lines ``query_id<TAB>text``; JSONL objects with ``query_id`` (or
  ``id`` / ``_id``) and ``text``; TREC topics ``<top><num>..<title>..</top>``.

A format is detected from the first non-blank character of the file (``<``:
TREC, ``{``: JSONL, anything else: TSV) unless given. Every reader decodes
strictly (bad UTF-8 names file, line and byte offset), refuses a malformed
line naming file and line, a duplicate id naming both lines, and a file that
yields nothing, saying what it expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, NamedTuple

from harness.errors import DataError, FormatError
from harness.data.text_lines import json_object, numbered_lines

FORMATS = ("tsv", "jsonl", "trec")
DOC_ID_KEYS = ("doc_id", "id", "_id")
QUERY_ID_KEYS = ("query_id", "id", "_id")
EXPECTED = {
    ("docs", "tsv"): "TSV lines 'doc_id<TAB>text'",
    ("docs", "jsonl"): 'JSONL lines {"doc_id": ..., "text": ...} (id key doc_id, id or _id; optional title)',
    ("docs", "trec"): "TREC SGML documents <DOC><DOCNO>id</DOCNO><TEXT>...</TEXT></DOC>",
    ("queries", "tsv"): "TSV lines 'query_id<TAB>text'",
    ("queries", "jsonl"): 'JSONL lines {"query_id": ..., "text": ...} (id key query_id, id or _id)',
    ("queries", "trec"): "TREC topics <top><num> Number: 401 <title> ... </top>",
}
_SNIFF_BYTES = 1 << 16


class FileDoc(NamedTuple):
    """A document of a file collection; ``default_text`` (what retrievers index) is title and text."""

    doc_id: str
    text: str
    title: str = ""

    def default_text(self) -> str:
        return f"{self.title} {self.text}" if self.title else self.text


class FileQuery(NamedTuple):
    query_id: str
    text: str

    def default_text(self) -> str:
        return self.text


def expected(kind: str, fmt: str) -> str:
    return EXPECTED[(kind, fmt)]


def detect(path: Path, kind: str, key: str) -> str:
    """The format of ``path`` from its first non-blank character: ``trec``, ``jsonl`` or ``tsv``."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    except OSError as exc:
        raise DataError(f"{key}: cannot read {path}: {exc.strerror or exc}") from None
    if not head:
        raise DataError(
            f"{key}: {path} is empty: expected {'documents' if kind == 'docs' else 'queries'} as one of: "
            + "; ".join(expected(kind, f) for f in FORMATS)
        )
    return {"<": "trec", "{": "jsonl"}.get(head[0], "tsv")


def resolve_format(path: Path, given: str, kind: str, key: str) -> str:
    """``given`` (tsv, jsonl, trec) or, for ``auto``, the detected format."""
    if given == "auto":
        return detect(path, kind, key)
    if given not in FORMATS:
        raise DataError(f"{key}_format={given!r}: expected one of auto, {', '.join(FORMATS)}")
    return given


def read_docs(path: Path, fmt: str) -> Iterator[tuple[int, FileDoc]]:
    """``(line number, document)`` of every document, duplicates refused."""
    from harness.data.trec_sgml import read_trec_docs

    readers = {
        "tsv": lambda: _tsv(path, FileDoc, "doc_id"),
        "jsonl": lambda: _jsonl_docs(path),
        "trec": lambda: read_trec_docs(path),
    }
    yield from _unique(readers[fmt](), path, "docs", fmt)


def read_queries(path: Path, fmt: str, field: str = "title") -> Iterator[tuple[int, FileQuery]]:
    """``(line number, query)`` of every query; ``field`` picks a TREC topic's text (title, desc, narr)."""
    from harness.data.trec_sgml import read_trec_topics

    readers = {
        "tsv": lambda: _tsv(path, FileQuery, "query_id"),
        "jsonl": lambda: _jsonl_queries(path),
        "trec": lambda: read_trec_topics(path, field),
    }
    yield from _unique(readers[fmt](), path, "queries", fmt)


def _unique(records, path: Path, kind: str, fmt: str):
    first: dict[str, int] = {}
    what = "document" if kind == "docs" else "query"
    for number, record in records:
        seen = first.setdefault(record[0], number)
        if seen != number:
            raise FormatError(path, number, f"duplicate {what} id {record[0]!r}: first on line {seen}")
        yield number, record
    if not first:
        raise DataError(
            f"{path}: no {'documents' if kind == 'docs' else 'queries'} found (read as {fmt}): expected {expected(kind, fmt)}"
        )


def _tsv(path: Path, record, id_name: str):
    for number, line in numbered_lines(path):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        ident, tab, rest = text.partition("\t")
        if not tab:
            raise FormatError(path, number, f"expected '{id_name}<TAB>text' (no tab on the line)", line)
        if ident.split() != [ident]:
            raise FormatError(path, number, f"{id_name} {ident!r} is empty or holds whitespace", line)
        yield number, record(ident, rest.strip())


def _objects(path: Path) -> Iterator[tuple[int, str, dict]]:
    for number, line in numbered_lines(path):
        if not line.strip():
            continue
        yield number, line, json_object(path, number, line)


def _ident(path: Path, number: int, line: str, item: dict, keys: tuple[str, ...]) -> str:
    key = next((k for k in keys if k in item), None)
    if key is None:
        raise FormatError(path, number, f"no id: expected one of the keys {', '.join(keys)}", line)
    value = item[key]
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or value.split() != [value]:
        raise FormatError(path, number, f"key {key!r}: {value!r} is not a non-empty id without whitespace", line)
    return value


def _string(path: Path, number: int, line: str, item: dict, key: str, required: bool = True) -> str:
    if key not in item and not required:
        return ""
    value = item.get(key)
    if not isinstance(value, str):
        raise FormatError(
            path, number, f"key {key!r}: expected a string, got {'nothing' if key not in item else type(value).__name__}", line
        )
    return value


def _jsonl_docs(path: Path):
    for number, line, item in _objects(path):
        ident = _ident(path, number, line, item, DOC_ID_KEYS)
        yield (
            number,
            FileDoc(ident, _string(path, number, line, item, "text"), _string(path, number, line, item, "title", required=False)),
        )


def _jsonl_queries(path: Path):
    for number, line, item in _objects(path):
        ident = _ident(path, number, line, item, QUERY_ID_KEYS)
        yield number, FileQuery(ident, _string(path, number, line, item, "text"))
