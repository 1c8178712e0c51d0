"""Evaluation with ranx, under the relevance convention of the dataset.

Names in outputs are plain (``ndcg@10``, ``mrr@10``, ``recall@100``, ``map``);
binary measures are computed at the dataset's ``binary_relevance_level``
(TREC DL: rel >= 2), which ranx spells with a ``-l2`` suffix. nDCG keeps the
graded labels. Queries with judgments but no results score 0, as trec_eval -c.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from harness.components import Qrels, Run
from harness.errors import ConfigError

# Measures that use graded labels; every other ranx measure is binary.
GRADED = {"ndcg", "ndcg_burges", "dcg", "dcg_burges"}


@dataclass
class Evaluation:
    mean: dict[str, float]
    per_query: dict[str, dict[str, float]]  # metric -> query_id -> value


def ranx_name(metric: str, binary_relevance_level: int) -> str:
    base = metric.split("@")[0]
    if base in GRADED or binary_relevance_level <= 1 or "-l" in metric:
        return metric
    return f"{metric}-l{binary_relevance_level}"


def evaluate(qrels: Qrels, run: Run, metrics: list[str], binary_relevance_level: int = 1,
             custom: Mapping[str, object] | None = None) -> Evaluation:
    """Mean and per-query values of ``metrics``; ``custom`` maps extra names to Metric components."""
    import ranx

    if not qrels:
        raise ConfigError("cannot evaluate: the qrels are empty")
    custom = dict(custom or {})
    judged_run = {qid: dict(run.get(qid, {})) for qid in qrels}
    per_query: dict[str, dict[str, float]] = {}
    ranx_metrics = [m for m in metrics if m not in custom]
    if ranx_metrics:
        ranx_qrels, ranx_run = ranx.Qrels(qrels), ranx.Run(_non_empty(judged_run))
        names = {m: ranx_name(m, binary_relevance_level) for m in ranx_metrics}
        try:
            ranx.evaluate(ranx_qrels, ranx_run, list(names.values()), make_comparable=True)
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"evaluation.metrics: unknown metric in {ranx_metrics} ({exc})") from None
        for metric, name in names.items():
            per_query[metric] = {qid: float(v) for qid, v in ranx_run.scores[name].items()}
    for metric in metrics:
        if metric in custom:
            values = custom[metric].per_query(qrels, judged_run)
            per_query[metric] = {qid: float(values.get(qid, 0.0)) for qid in qrels}
    mean = {m: sum(v.values()) / len(qrels) for m, v in per_query.items()}
    return Evaluation(mean={m: mean[m] for m in metrics}, per_query=per_query)


def _non_empty(run: Run) -> Run:
    # ranx rejects queries with no documents; make_comparable adds them back as empty (score 0).
    return {qid: docs for qid, docs in run.items() if docs}
