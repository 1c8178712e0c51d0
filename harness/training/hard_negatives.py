"""Hard negatives for the msmarco-train-sample queries, mined by the harness's own first stage.

The corpus is the file's passages plus a collection's (the mini MS MARCO
collection by default); the configured BM25 retriever (``retriever=bm25``,
bm25s) indexes it and ranks it for every training query through
``stages.first_stage``, so the index and the ranking are stage-cache entries
keyed by the content digests of the file and the collection. A query's pool of
negatives is its BM25 ranks ``[lo, hi)`` once its positives are left out: a
passage whose id is a positive's, or whose text is contained in a positive's
(the file's positives sometimes start with their page's title) is never a
negative. An optional teacher (the packaged bi-encoder) drops from each pool
the passages it scores within ``margin`` of the query's best positive: likely
false negatives. Pools and teacher filter are cached too.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Callable, Sequence

from harness import stages
from harness.cache import code_version, stable_hash
from harness.components import Context
from harness.data.msmarco_sample import Sample

logger = logging.getLogger(__name__)


class MiningCorpus:
    """The file's passages and a collection's, duck-typed as an ir_datasets dataset for a retriever.

    Its content digest (``harness.cache.digests``) covers the file (declared below) and
    the collection's document files (found through its docs handler).
    """

    def __init__(self, sample: Sample, collection: Any | None):
        self.harness_data_files = [sample.path]
        self._passages = sample.passages
        self._collection = collection.docs_handler() if collection is not None else None

    def docs_iter(self):
        from ir_datasets.formats import GenericDoc

        for pid, text in self._passages.items():
            yield GenericDoc(pid, text)
        if self._collection is not None:
            for doc in self._collection.docs_iter():
                if doc.doc_id not in self._passages:
                    yield GenericDoc(doc.doc_id, doc.default_text())

    def docs_count(self) -> int:
        return len(self._passages) + (self._collection.docs_count() if self._collection is not None else 0)


def corpus_context(context: Context, collection_id: str | None) -> Context:
    """The context of the mining stages: its dataset id names the corpus and this module's code,
    so the cached index and rankings change when the corpus or the way it is built does."""
    return dataclasses.replace(context, dataset_id=f"msmarco-train-sample+{collection_id or 'none'}@{code_version(MiningCorpus)}")


def rankings(retriever: Any, corpus: MiningCorpus, sample: Sample) -> tuple[dict[str, dict[str, float]], str]:
    """BM25 rankings of every training query over the corpus (the first stage, cached), and its key."""
    from ir_datasets.formats import GenericQuery

    queries = [GenericQuery(q.query_id, q.text) for q in sample.queries]
    logger.info("mining: ranking %d training queries over %d passages with %s", len(queries), corpus.docs_count(), retriever.name)
    return stages.first_stage(retriever, corpus, queries)


def _is_positive(doc_id: str, text: str, positives: Sequence[str], positive_texts: Sequence[str]) -> bool:
    return doc_id in positives or any(text.strip() and text.strip() in p for p in positive_texts)


def mine(sample: Sample, run: dict[str, dict[str, float]], text: Callable[[str], str], lo: int, hi: int) -> dict:
    """Each query's pool: its BM25 ranks [lo, hi) (0-based, score descending, ties by doc id descending
    as trec_eval sorts) among passages that are not its positives."""
    pools = {}
    for query in sample.queries:
        positive_texts = [text(p) for p in query.positives]
        ranked = sorted(run.get(query.query_id, {}).items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        kept = [d for d, _ in ranked if not _is_positive(d, text(d), query.positives, positive_texts)]
        pools[query.query_id] = kept[lo:hi]
    empty = sum(1 for p in pools.values() if not p)
    if empty:
        logger.info("mining: %d of %d queries got no negative in BM25 ranks [%d, %d)", empty, len(pools), lo, hi)
    return pools


def cached_pools(
    cache: Any, run_key: str, sample: Sample, run: dict, text: Callable[[str], str], lo: int, hi: int
) -> dict[str, list[str]]:
    payload = {"rankings": run_key, "lo": lo, "hi": hi, "code": code_version(mine)}
    return cache.json("mined-negatives", payload, lambda: mine(sample, run, text, lo, hi))


def teacher_filter(
    scorer: Any, sample: Sample, pools: dict[str, list[str]], text: Callable[[str], str], margin: float
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Pools without the negatives the teacher scores above (best positive's score - margin), and counts.

    ``scorer`` is a bi-encoder scorer (``encode``, ``score_matrix``); each distinct
    passage is encoded once.
    """
    needed = sorted({p for q in sample.queries for p in (*q.positives, *pools.get(q.query_id, []))})
    index = {p: i for i, p in enumerate(needed)}
    logger.info("teacher: encoding %d passages and %d queries", len(needed), len(sample.queries))
    passages = scorer.encode([text(p) for p in needed], desc="teacher passages")
    queries = scorer.encode([q.text for q in sample.queries], query=True, desc="teacher queries")
    kept, dropped = {}, 0
    for row, query in enumerate(sample.queries):
        pool = pools.get(query.query_id, [])
        ids = [index[p] for p in (*query.positives, *pool)]
        scores = scorer.score_matrix(queries[row : row + 1], passages[ids])[0].tolist()
        best = max(scores[: len(query.positives)])
        keep = [p for p, s in zip(pool, scores[len(query.positives) :]) if s < best - margin]
        dropped += len(pool) - len(keep)
        kept[query.query_id] = keep
    total = sum(len(p) for p in pools.values())
    logger.info("teacher: dropped %d of %d mined negatives (score within %.3f of the positive's)", dropped, total, margin)
    return kept, {"teacher_dropped": dropped, "teacher_candidates": total}


def cached_teacher_filter(
    cache: Any, pools_key: str, teacher: Any, sample: Sample, pools: dict, text: Callable, margin: float
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    payload = {"pools": pools_key, "teacher": teacher.encoder_identity(), "margin": margin, "code": code_version(teacher_filter)}
    value = cache.json("teacher-filter", payload, lambda: list(teacher_filter(teacher.scorer, sample, pools, text, margin)))
    return value[0], value[1]


def pools_key(run_key: str, lo: int, hi: int) -> str:
    return stable_hash({"rankings": run_key, "lo": lo, "hi": hi, "code": code_version(mine)})
