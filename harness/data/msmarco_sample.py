"""The msmarco-train-sample file: real MS MARCO training queries with their passages' texts.

``train.jsonl`` (``../shared/data/msmarco-train-sample``, see its README) has one
JSON object a line: ``query_id`` (a string, or null), ``query``, ``positive``
(passage texts judged relevant) and ``negatives`` (passage texts not judged
relevant). It is read strictly: a line that is not such an object is an error
naming the file and line. Its texts carry the mojibake of the raw MS MARCO
files (``â€™`` for ``’``); they are repaired with ir_datasets' own
``FixEncoding``, as the msmarco-passage collection (and so the mini one) is.

A passage has no id in the file: it is named by the digest of its repaired
text (``s`` + 16 hex digits), so the same text is one passage wherever it
appears, and a query without an id is named by its line (``line<N>``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from harness.errors import FormatError
from harness.data.text_lines import json_object, numbered_lines

logger = logging.getLogger(__name__)

FILE = "msmarco-train-sample/train.jsonl"  # under the data root


@dataclass(frozen=True)
class SampleQuery:
    query_id: str
    text: str
    positives: tuple[str, ...]  # passage ids
    negatives: tuple[str, ...]  # the file's own negatives, passage ids
    line: int


@dataclass
class Sample:
    path: Path
    queries: list[SampleQuery]
    passages: dict[str, str] = field(default_factory=dict)  # passage id -> repaired text


def passage_id(text: str) -> str:
    return "s" + hashlib.sha256(text.encode()).hexdigest()[:16]


class _Lines:
    """A streamer (ir_datasets' interface: ``stream()``) of texts, one a line, for ``FixEncoding``."""

    def __init__(self, texts: Sequence[str]):
        self._data = "".join(t + "\n" for t in texts).encode()

    @contextlib.contextmanager
    def stream(self) -> Iterator[io.BytesIO]:
        yield io.BytesIO(self._data)


def fix_encoding(texts: Sequence[str]) -> list[str]:
    """``texts`` with MS MARCO's mojibake repaired by ir_datasets' ``FixEncoding`` (one pass over all).

    A text's line breaks become spaces first (FixEncoding works a line at a time).
    """
    from ir_datasets.datasets.msmarco_passage import FixEncoding

    flat = [t.replace("\r", " ").replace("\n", " ") for t in texts]
    fixed = [line.decode().rstrip("\n") for line in FixEncoding(_Lines(flat))]
    if len(fixed) != len(flat):  # FixEncoding keeps lines one to one; anything else would misalign texts
        raise RuntimeError(f"FixEncoding returned {len(fixed)} lines for {len(flat)} texts")
    return fixed


def _texts(value: Any, key: str, path: Path, number: int, line: str, required: bool) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        raise FormatError(path, number, f"'{key}' must be a list of non-empty strings, got {_shown(value)}", line)
    if required and not value:
        raise FormatError(path, number, f"'{key}' is empty: a training query needs a relevant passage", line)
    return value


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _record(number: int, line: str, path: Path) -> tuple[str | None, str, list[str], list[str]]:
    obj = json_object(path, number, line)
    missing = [k for k in ("query", "positive") if k not in obj]
    if missing:
        raise FormatError(path, number, f"missing key(s) {', '.join(missing)}", line)
    query_id = obj.get("query_id")
    if query_id is not None and (not isinstance(query_id, str) or not query_id.strip()):
        raise FormatError(path, number, f"'query_id' must be a non-empty string or null, got {_shown(query_id)}", line)
    query = obj["query"]
    if not isinstance(query, str) or not query.strip():
        raise FormatError(path, number, f"'query' must be a non-empty string, got {_shown(query)}", line)
    return (
        query_id,
        query,
        _texts(obj["positive"], "positive", path, number, line, True),
        _texts(obj.get("negatives", []), "negatives", path, number, line, False),
    )


def read(path: Path | str) -> Sample:
    """The file's queries and passages, texts repaired; a bad line is a :class:`FormatError`."""
    path = Path(path)
    rows = []
    seen: dict[str, int] = {}  # query id -> its line
    for number, line in numbered_lines(path):
        if not line.strip():
            raise FormatError(path, number, "empty line")
        query_id, query, positives, negatives = _record(number, line, path)
        query_id = query_id or f"line{number}"
        if query_id in seen:
            raise FormatError(path, number, f"query_id {query_id!r} already appeared on line {seen[query_id]}", line)
        seen[query_id] = number
        rows.append((number, query_id, query, positives, negatives))
    if not rows:
        raise FormatError(path, 1, "the file holds no training query")
    texts = [t for _, _, q, pos, neg in rows for t in (q, *pos, *neg)]
    fixed = iter(fix_encoding(texts))
    sample = Sample(path, [])
    for number, query_id, _, positives, negatives in rows:
        query = next(fixed)
        pos_ids = _add(sample.passages, [next(fixed) for _ in positives])
        neg_ids = [p for p in _add(sample.passages, [next(fixed) for _ in negatives]) if p not in pos_ids]
        sample.queries.append(SampleQuery(query_id, query, tuple(pos_ids), tuple(dict.fromkeys(neg_ids)), number))
    logger.info("%s: %d queries, %d distinct passages", path, len(sample.queries), len(sample.passages))
    return sample


def _add(passages: dict[str, str], texts: list[str]) -> list[str]:
    ids = []
    for text in texts:
        pid = passage_id(text)
        passages[pid] = text
        if pid not in ids:
            ids.append(pid)
    return ids
