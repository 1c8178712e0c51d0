"""A tiny in-memory dataset with the ir_datasets interface, for contract checks.

Six passages, three queries, graded qrels and a first-stage run: enough to
call every component verb, small enough that a check takes milliseconds.
"""

from __future__ import annotations

from typing import Any, Iterator

DOCS = {
    "d1": "The cat sat on the mat and purred.",
    "d2": "Dogs bark at cats that sit on mats.",
    "d3": "Reciprocal rank fusion combines several rankings into one.",
    "d4": "BM25 scores a passage by term frequency and document length.",
    "d5": "Paris is the capital and largest city of France.",
    "d6": "A cross-encoder reads the query and passage together.",
}
QUERIES = {"q1": "where do cats sit", "q2": "how does rank fusion work", "q3": "capital of france"}
QRELS = {"q1": {"d1": 2, "d2": 1}, "q2": {"d3": 3, "d4": 0}, "q3": {"d5": 2}}


def first_stage_run() -> dict[str, dict[str, float]]:
    """Every document for every query, scored by word overlap (ties broken by doc id)."""
    run: dict[str, dict[str, float]] = {}
    for qid, text in QUERIES.items():
        words = set(text.lower().split())
        run[qid] = {
            did: len(words & set(body.lower().strip(".").split())) + 0.01 * i
            for i, (did, body) in enumerate(sorted(DOCS.items()))
        }
    return run


class _Store:
    def __init__(self, docs: dict[str, Any]):
        self._docs = docs

    def get(self, doc_id: str) -> Any:
        return self._docs[doc_id]

    def get_many(self, doc_ids) -> dict[str, Any]:
        return {d: self._docs[d] for d in doc_ids if d in self._docs}


class ToyDataset:
    """Duck-types the parts of an ``ir_datasets`` dataset that components use."""

    def __init__(self):
        from ir_datasets.formats import GenericDoc, GenericQuery, GenericScoredDoc, TrecQrel

        self._docs = {d: GenericDoc(d, text) for d, text in DOCS.items()}
        self._queries = [GenericQuery(q, text) for q, text in QUERIES.items()]
        self._qrels = [TrecQrel(q, d, rel, "0") for q, rels in QRELS.items() for d, rel in rels.items()]
        self._scored = [GenericScoredDoc(q, d, s) for q, docs in first_stage_run().items() for d, s in docs.items()]

    def docs_iter(self) -> Iterator[Any]:
        return iter(self._docs.values())

    def docs_count(self) -> int:
        return len(self._docs)

    def docs_store(self, field: str = "doc_id") -> _Store:
        return _Store(self._docs)

    def queries_iter(self) -> Iterator[Any]:
        return iter(self._queries)

    def qrels_iter(self) -> Iterator[Any]:
        return iter(self._qrels)

    def scoreddocs_iter(self) -> Iterator[Any]:
        return iter(self._scored)

    def has_docs(self) -> bool:
        return True

    has_queries = has_qrels = has_scoreddocs = has_docs
