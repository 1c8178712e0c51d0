"""Question-answering data for RAG, read from JSONL and served through ir_datasets.

The generic format (docs/rag.md) is one JSON object per line::

    {"id": "q1", "question": "...", "answers": ["..."],
     "gold_passages": ["text" | {"id": "...", "text": "..."}, ...],
     "distractors": [...], "counterfactuals": [...], "counterfactual_answers": ["..."]}

``id``, ``distractors``, ``counterfactuals`` and ``counterfactual_answers``
(the false answers the counterfactual passages state) are optional. Every
passage goes into the corpus; gold passages are judged relevant (1),
distractors and counterfactuals non-relevant (0). Queries are
:class:`QAQuery` records that carry their gold answers, the ids of their gold
and counterfactual passages, and their counterfactual answers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

from harness.errors import DataError, FormatError
from harness.data.text_lines import numbered_lines

logger = logging.getLogger(__name__)
ROLES = {"gold_passages": "gold", "distractors": "distractor", "counterfactuals": "counterfactual"}
KNOWN_KEYS = {"id", "question", "answers", "counterfactual_answers", *ROLES}


class QAQuery(NamedTuple):
    query_id: str
    text: str
    answers: tuple
    gold_doc_ids: tuple
    counterfactual_doc_ids: tuple
    counterfactual_answers: tuple = ()  # the false answers its counterfactual passages state (RGB)

    def default_text(self) -> str:
        return self.text


@dataclass
class QACollection:
    """Parsed QA items: queries, the passage corpus (id -> text) and the qrels."""

    queries: list[QAQuery] = field(default_factory=list)
    docs: dict[str, str] = field(default_factory=dict)
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, path: Path, line_no: int, line: str, item: dict) -> None:
        qid = str(item.get("id", line_no))
        if qid in self.qrels:
            raise FormatError(path, line_no, f"duplicate id {qid!r}", line)
        ids: dict[str, list[str]] = {}
        for key, role in ROLES.items():
            ids[role] = [self._passage(path, line_no, line, qid, role, i, p) for i, p in enumerate(item.get(key) or [])]
        self.qrels[qid] = {**{d: 0 for d in ids["distractor"] + ids["counterfactual"]}, **{d: 1 for d in ids["gold"]}}
        self.queries.append(
            QAQuery(
                qid,
                item["question"],
                tuple(item["answers"]),
                tuple(ids["gold"]),
                tuple(ids["counterfactual"]),
                tuple(item.get("counterfactual_answers") or ()),
            )
        )

    def _passage(self, path, line_no, line, qid, role, index, passage) -> str:
        if isinstance(passage, dict):
            doc_id, text = str(passage.get("id", f"{qid}/{role}/{index}")), passage["text"]
        else:
            doc_id, text = f"{qid}/{role}/{index}", passage
        if self.docs.get(doc_id, text) != text:
            raise FormatError(path, line_no, f"passage id {doc_id!r} was given before with another text", line)
        self.docs[doc_id] = text
        return doc_id


def _id_problem(value: object, what: str) -> str:
    """Why ``value`` cannot be an id (it goes into TREC run files: one column, no whitespace)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return f"{what} must be a string or an integer, got {type(value).__name__}"
    if isinstance(value, str) and value.split() != [value]:
        return f"{what} {value!r} must be non-empty and hold no whitespace"
    return ""


def _passage_problem(passage: object, role: str, index: int) -> str:
    if isinstance(passage, str):
        return ""
    if not isinstance(passage, dict) or not isinstance(passage.get("text"), str):
        return f'{role} passage {index} must be a string or {{"id": ..., "text": ...}}'
    return _id_problem(passage["id"], f"{role} passage {index}: key 'id'") if "id" in passage else ""


def _strings(value: object, empty: bool = False) -> bool:
    """A list of non-empty strings (and not an empty list, unless ``empty``)."""
    return isinstance(value, list) and (empty or bool(value)) and all(isinstance(a, str) and a.strip() for a in value)


def _check(item: object) -> str:
    """Why ``item`` is not a valid QA record ('' when it is): every field's type is checked."""
    if not isinstance(item, dict):
        return "expected a JSON object"
    if "id" in item and _id_problem(item["id"], "key 'id'"):
        return _id_problem(item["id"], "key 'id'")
    if not isinstance(item.get("question"), str) or not item["question"].strip():
        return "key 'question' must be a non-empty string"
    if not _strings(item.get("answers")):
        return "key 'answers' must be a non-empty list of non-empty strings"
    if not _strings(item.get("counterfactual_answers", []), empty=True):
        return "key 'counterfactual_answers' must be a list of non-empty strings"
    if not item.get("gold_passages") or not isinstance(item["gold_passages"], list):
        return "key 'gold_passages' must be a non-empty list"
    for key in ("distractors", "counterfactuals"):
        if not isinstance(item.get(key) or [], list):
            return f"key '{key}' must be a list"
    for key, role in ROLES.items():
        problems = (_passage_problem(p, role, i) for i, p in enumerate(item.get(key) or []))
        found = next((problem for problem in problems if problem), "")
        if found:
            return found
    return ""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are unique (json.loads would keep the last of two silently)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return found


def _parse(path: Path, line_no: int, line: str, convert: Callable[[dict, int], dict]) -> dict:
    try:
        item = convert(json.loads(line, object_pairs_hook=_unique_keys), line_no)
    except json.JSONDecodeError as exc:
        raise FormatError(path, line_no, f"not valid JSON ({exc.msg} at column {exc.colno})", line) from None
    except ValueError as exc:  # _unique_keys
        raise FormatError(path, line_no, f"not a valid record ({exc})", line) from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise FormatError(path, line_no, f"unexpected record ({type(exc).__name__}: {exc})", line) from None
    problem = _check(item)
    if problem:
        raise FormatError(path, line_no, problem, line)
    return item


def read_jsonl(
    path: Path, convert: Callable[[dict, int], dict] = lambda item, n: item, keep: Callable[[str], bool] = lambda qid: True
) -> QACollection:
    """Parse a QA JSONL file (after ``convert``), keeping the queries whose id passes ``keep``.

    Every line's passages enter the corpus, kept query or not, so that a test
    split's noise pool is the whole collection.
    """
    collection, ignored = QACollection(), set()
    for line_no, line in numbered_lines(Path(path)):
        if not line.strip():
            continue
        item = _parse(path, line_no, line, convert)
        ignored |= item.keys() - KNOWN_KEYS
        collection.add(path, line_no, line, item)
    if not collection.queries:
        raise DataError(f"{path}: no QA records in file")
    if ignored:  # a misspelt key ('distractor') would otherwise vanish without a word
        logger.warning("%s: keys ignored (not part of the QA format): %s", path, ", ".join(sorted(ignored)))
    kept = [q for q in collection.queries if keep(q.query_id)]
    collection.qrels = {q.query_id: collection.qrels[q.query_id] for q in kept}
    collection.queries = kept
    return collection


def in_test_split(query_id: str, test_share: float) -> bool:
    """A stable hash split: the same id always falls on the same side, whatever the file order."""
    bucket = int(hashlib.sha256(query_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < test_share
