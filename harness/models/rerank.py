"""What every neural reranker does around its model: pick candidates, fetch texts, rebuild the run."""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Optional, Sequence

from harness.components import Run
from harness.errors import DataError
from harness.ranking import ranked

logger = logging.getLogger(__name__)


def candidates(run: Run, top_k: int) -> dict[str, list[str]]:
    """Each query's best ``top_k`` documents under the one ranking rule (ties: descending doc id)."""
    return {qid: [d for d, _ in ranked(docs)[:top_k]] for qid, docs in run.items()}


def passage_texts(dataset: Any, doc_ids: Sequence[str], dataset_id: str = "") -> dict[str, str]:
    """``{doc_id: text}`` through the dataset's docs store (random access by id)."""
    found = dataset.docs_store().get_many(list(doc_ids))
    missing = [d for d in doc_ids if d not in found]
    if missing:
        raise DataError(
            f"dataset '{dataset_id}': {len(missing)} document(s) of the run are not in its corpus, "
            f"e.g. {missing[:3]}; is the run file for this dataset?"
        )
    return {d: doc.default_text() for d, doc in found.items()}


def query_texts(queries: Sequence[Any]) -> dict[str, str]:
    return {q.query_id: q.default_text() if hasattr(q, "default_text") else q.text for q in queries}


def candidate_ids(cands: Mapping[str, Sequence[str]]) -> list[str]:
    """Every candidate document once, sorted (the order passage encodings are cached in)."""
    return sorted({d for docs in cands.values() for d in docs})


def rerank_inputs(component: Any, dataset: Any, queries: Sequence[Any], run: Run) -> tuple[dict, dict, dict]:
    """Query texts, the ``top_k`` candidates of each query that has a text, and the candidates' passage texts."""
    texts = query_texts(queries)
    cands = {qid: docs for qid, docs in candidates(run, component.config.top_k).items() if qid in texts}
    return texts, cands, passage_texts(dataset, candidate_ids(cands), component.context.dataset_id)


def rerank_encoded(
    component: Any,
    dataset: Any,
    queries: Sequence[Any],
    run: Run,
    encode: Callable[[list[str]], dict[str, Any]],
    score: Callable[[dict[str, str], dict[str, list[str]], list[str], dict[str, Any]], dict[str, dict[str, float]]],
) -> Run:
    """A reranker whose passages are encoded apart from the queries, around its two verbs.

    ``encode(passage texts)`` gives tensors (cached per encoder and documents);
    ``score(query texts, candidates, doc ids, tensors)`` scores each query's candidates.
    Under ``dtype=int8`` a few queries are scored again on fresh, uncached fp32 encodings.
    """
    from harness.models.store import cached_encodings

    texts, cands, passages = rerank_inputs(component, dataset, queries, run)
    encode_ids = lambda ids: encode([passages[d] for d in ids])
    doc_ids = candidate_ids(cands)
    tensors = cached_encodings(
        component.context, component.encoder_identity(), doc_ids, [passages[d] for d in doc_ids], encode_ids
    )
    reranked = score(texts, cands, doc_ids, tensors)

    def rescore(qids: list[str]) -> dict[str, dict[str, float]]:  # fp32, uncached: the int8 check
        sub = {q: cands[q] for q in qids}
        ids = candidate_ids(sub)
        return score(texts, sub, ids, encode_ids(ids))

    int8_change(component, reranked, rescore)
    return rebuild(run, reranked)


def rebuild(run: Run, reranked: Mapping[str, Mapping[str, float]]) -> Run:
    """The new run: reranked documents first, then the rest of the old run below them, in its order.

    Queries of ``run`` the reranker did not see (no query text) keep their old scores.
    """
    out: Run = {}
    for qid, docs in run.items():
        scores = dict(reranked.get(qid, {}))
        if not scores:
            out[qid] = dict(docs)
            continue
        floor = min(scores.values())
        tail = [d for d, _ in ranked(docs) if d not in scores]
        scores.update({d: floor - 1.0 - i for i, d in enumerate(tail)})
        out[qid] = scores
    return out


def int8_change(
    component: Any, reranked: Mapping[str, Mapping[str, float]], rescore: Callable[[list[str]], Mapping[str, Mapping[str, float]]]
) -> Optional[dict[str, Any]]:
    """Under ``dtype=int8``: ``rescore`` a few of the run's queries in fp32 and report the agreement.

    Logged as one line and appended to ``component.int8_reports`` (one per shard scored), which
    the reranker's ``run_info`` puts into the run's ``run_info.json``.
    """
    n = getattr(component.config, "int8_check", 0)
    scorer = component.scorer
    if not getattr(scorer, "int8", False) or not n or not reranked:
        return None
    from harness.models.int8 import agreement, sample

    qids = sample(list(reranked), n)
    with scorer.reference():
        reference = rescore(qids)
    report = agreement({q: dict(reranked[q]) for q in qids}, {q: dict(reference[q]) for q in qids})
    logger.info(
        "int8 vs fp32 on %d of this run's %d queries: top-10 overlap %.3f, Kendall tau %.3f, largest score change %.4f",
        report["queries"],
        len(reranked),
        report["top10_overlap"],
        report["kendall_tau"],
        report["max_abs_score_change"],
    )
    component.int8_reports = [*(component.int8_reports or []), report]
    return report
