"""Reading and writing TREC qrels and run files, strictly, with file:line errors.

The readers follow trec_eval's rules and refuse what it refuses, naming file
and line (:class:`harness.errors.FormatError`):

- a run line is ``qid Q0 docid rank score tag`` (6 columns); the short form
  ``qid docid score`` is read only when every line of the file has 3 columns;
- a score is a finite decimal number (no ``nan``, ``inf``, ``1_0``);
- qrels lines are ``qid iteration docid relevance`` with an integer grade;
- a (query, document) pair appears once: a duplicate names both lines;
- an empty file, or bytes that are not UTF-8, are errors too.

Run files are written with every score in full precision (``repr``), in the
one ranking order of :mod:`harness.ranking`, so reading one back gives the run
that was evaluated, bit for bit.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Iterable, Iterator, Mapping, NamedTuple

from harness.errors import DataError, FormatError
from harness.ranking import ranked
from harness.data.text_lines import numbered_lines

__all__ = ["QrelLine", "RunLine", "parse_qrels", "parse_run", "read_qrels", "read_run", "ranked", "format_run", "write_run"]

Run = dict[str, dict[str, float]]
# What C's strtod reads as a finite decimal (trec_eval reads scores with atof): no nan/inf, no '_'.
SCORE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
GRADE = re.compile(r"[+-]?\d+")
RUN_WIDE, RUN_SHORT = "qid Q0 docid rank score tag", "qid docid score"
QRELS_COLUMNS = "qid Q0 docid relevance"


class QrelLine(NamedTuple):
    query_id: str
    doc_id: str
    relevance: int
    iteration: str


class RunLine(NamedTuple):
    query_id: str
    doc_id: str
    score: float


class _Pairs:
    """The line of each (query, document) pair seen so far: a second one is refused, naming both."""

    def __init__(self, path: Path, what: str):
        self.path, self.what = path, what
        self.lines: dict[str, dict[str, int]] = {}

    def add(self, qid: str, did: str, number: int, line: str) -> None:
        first = self.lines.setdefault(qid, {}).setdefault(did, number)
        if first != number:
            raise FormatError(
                self.path,
                number,
                f"duplicate {self.what} for query {qid!r}, document {did!r}: "
                f"first on line {first} (trec_eval refuses duplicates)",
                line,
            )

    def require_some(self) -> None:
        if not self.lines:
            raise DataError(f"{self.path}: empty file: no {self.what} lines")


def _data_lines(path: Path, handle: IO | None) -> Iterator[tuple[int, str, list[str]]]:
    for number, line in numbered_lines(path, handle):
        cols = line.split()
        if cols:  # blank lines carry nothing
            yield number, line, cols


def parse_qrels(path: Path, handle: IO | None = None) -> Iterator[QrelLine]:
    """Yield qrels from a TREC qrels file: ``qid iteration docid relevance``."""
    pairs = _Pairs(path, "judgment")
    for number, line, cols in _data_lines(path, handle):
        if len(cols) != 4:
            raise FormatError(path, number, f"expected 4 columns '{QRELS_COLUMNS}', got {len(cols)}", line)
        qid, iteration, did, grade = cols
        if not GRADE.fullmatch(grade):
            raise FormatError(path, number, f"relevance {grade!r} is not an integer", line)
        pairs.add(qid, did, number, line)
        yield QrelLine(qid, did, int(grade), iteration)
    pairs.require_some()


def parse_run(path: Path, handle: IO | None = None) -> Iterator[RunLine]:
    """Yield scored documents from a TREC run (6 columns) or a file of ``qid docid score`` lines."""
    pairs = _Pairs(path, "scored document")
    width = first = 0
    for number, line, cols in _data_lines(path, handle):
        if not width:
            if len(cols) not in (6, 3):
                raise FormatError(
                    path, number, f"expected 6 columns '{RUN_WIDE}' (or 3 on every line: '{RUN_SHORT}'), got {len(cols)}", line
                )
            width, first = len(cols), number
        elif len(cols) != width:
            raise FormatError(
                path,
                number,
                f"{len(cols)} columns where line {first} has {width}: a run file "
                f"has one format throughout ('{RUN_WIDE}', or '{RUN_SHORT}' "
                "on every line)",
                line,
            )
        qid, did, score = (cols[0], cols[2], cols[4]) if width == 6 else cols
        if width == 3 and did == "Q0":
            raise FormatError(
                path, number, f"document id 'Q0' in a 3-column line: is it a 6-column line '{RUN_WIDE}' cut short?", line
            )
        value = _score(path, number, line, score)
        pairs.add(qid, did, number, line)
        yield RunLine(qid, did, value)
    pairs.require_some()


def _score(path: Path, number: int, line: str, text: str) -> float:
    if SCORE.fullmatch(text):
        value = float(text)
        if math.isfinite(value):
            return value
        raise FormatError(path, number, f"score {text!r} is too large for a double", line)
    try:
        value = float(text)
    except ValueError:
        raise FormatError(path, number, f"score {text!r} is not a number", line) from None
    problem = "is not a finite number" if not math.isfinite(value) else "is not a plain decimal number"
    raise FormatError(path, number, f"score {text!r} {problem}", line)


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


def format_run(run: Mapping[str, Mapping[str, float]], tag: str) -> Iterable[str]:
    """TREC lines, queries sorted, documents in the one ranking order, scores in full precision."""
    _check_token(tag, "run tag")
    for qid in sorted(run):
        _check_token(qid, "query id")
        for rank, (did, score) in enumerate(ranked(run[qid]), start=1):
            _check_token(did, f"document id (query {qid!r})")
            text = repr(float(score))
            if not SCORE.fullmatch(text):
                raise DataError(f"run file: score {text} of document {did!r} for query {qid!r} is not a finite number")
            yield f"{qid} Q0 {did} {rank} {text} {tag}\n"


def _check_token(text: str, what: str) -> None:
    if not isinstance(text, str) or text.split() != [text]:
        raise DataError(f"run file: {what} {text!r} cannot be written: a TREC column is a non-empty string without whitespace")


def write_run(run: Mapping[str, Mapping[str, float]], path: Path, tag: str = "harness") -> None:
    """Write a TREC run file atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(format_run(run, tag))
        os.replace(tmp, path)
    except BaseException:  # a refused score or id leaves no half-written temporary file
        Path(tmp).unlink(missing_ok=True)
        raise
