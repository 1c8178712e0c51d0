"""The one ranking rule: descending score, ties by descending doc id (trec_eval's own rule).

Evaluation, run files, reranker candidates, the RAG context and the leaderboard
all order by it, so a figure never depends on a dict's insertion order. ranx
sorts each query's documents with numpy's quicksort, which is not stable: given
raw scores, an in-memory run and the same run read back from a file could rank
their ties differently. :func:`rank_scores` is what ranx gets instead.
"""

from __future__ import annotations

import math
from typing import Mapping

from harness.errors import DataError


def ranked(scores: Mapping[str, float]) -> list[tuple[str, float]]:
    """``(id, score)`` pairs by descending score; ties by descending id, as trec_eval sorts."""
    return sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)


def rank_scores(scores: Mapping[str, float]) -> dict[str, float]:
    """Scores n, n-1, ..., 1 in the rule's order: no ties left for another sort to reorder.

    Every ranx measure depends on the ranking only, so its values are unchanged.
    """
    order = ranked(scores)
    return {doc: float(len(order) - position) for position, (doc, _) in enumerate(order)}


def check_finite(run: Mapping[str, Mapping[str, float]], where: str) -> None:
    """Refuse nan and inf: they have no place in a ranking (and no TREC run file can hold them)."""
    for qid, docs in run.items():
        for doc, score in docs.items():
            if not math.isfinite(score):
                raise DataError(f"{where}: score {float(score)!r} of document {doc!r} for query {qid!r} is not a finite number")
