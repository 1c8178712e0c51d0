"""Reading and writing TREC qrels and run files, with file:line errors.

ir_datasets' own parsers raise "expected 4 columns" without saying where; a
researcher with a 10k-line file needs the line number, so these parse line by
line and raise :class:`harness.errors.FormatError` naming file and line.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, TextIO

from harness.errors import DataError, FormatError

Run = dict[str, dict[str, float]]


class QrelLine(NamedTuple):
    query_id: str
    doc_id: str
    relevance: int
    iteration: str


class RunLine(NamedTuple):
    query_id: str
    doc_id: str
    score: float


def _lines(path: Path, handle: TextIO | None = None) -> Iterator[tuple[int, str]]:
    if handle is None:
        try:
            handle = open(path, encoding="utf-8")
        except FileNotFoundError as exc:
            raise DataError(f"file not found: {path}") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def parse_qrels(path: Path, handle: TextIO | None = None) -> Iterator[QrelLine]:
    """Yield qrels from a TREC qrels file: ``qid iteration docid relevance``."""
    for number, line in _lines(path, handle):
        cols = line.split()
        if len(cols) != 4:
            raise FormatError(path, number, f"expected 4 columns 'qid Q0 docid relevance', got {len(cols)}", line)
        try:
            relevance = int(cols[3])
        except ValueError:
            raise FormatError(path, number, f"relevance {cols[3]!r} is not an integer", line) from None
        yield QrelLine(cols[0], cols[2], relevance, cols[1])


def parse_run(path: Path, handle: TextIO | None = None) -> Iterator[RunLine]:
    """Yield scored documents from a TREC run (6 columns) or a ``qid docid score`` file."""
    for number, line in _lines(path, handle):
        cols = line.split()
        if len(cols) == 6:
            qid, did, score = cols[0], cols[2], cols[4]
        elif len(cols) == 3:
            qid, did, score = cols
        else:
            raise FormatError(path, number, f"expected 6 columns 'qid Q0 docid rank score tag' "
                              f"(or 3: 'qid docid score'), got {len(cols)}", line)
        try:
            value = float(score)
        except ValueError:
            raise FormatError(path, number, f"score {score!r} is not a number", line) from None
        yield RunLine(qid, did, value)


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for q in parse_qrels(Path(path)):
        qrels.setdefault(q.query_id, {})[q.doc_id] = q.relevance
    return qrels


def read_run(path: Path) -> Run:
    run: Run = {}
    for r in parse_run(Path(path)):
        run.setdefault(r.query_id, {})[r.doc_id] = r.score
    return run


def ranked(docs: dict[str, float]) -> list[tuple[str, float]]:
    """Documents by descending score; ties broken by descending doc id, as trec_eval does."""
    return sorted(docs.items(), key=lambda item: (item[1], item[0]), reverse=True)


def format_run(run: Run, tag: str) -> Iterable[str]:
    for qid in sorted(run):
        for rank, (did, score) in enumerate(ranked(run[qid]), start=1):
            yield f"{qid} Q0 {did} {rank} {score:.6f} {tag}\n"


def write_run(run: Run, path: Path, tag: str = "harness") -> None:
    """Write a TREC run file atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.writelines(format_run(run, tag))
    os.replace(tmp, path)
