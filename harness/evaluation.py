"""Evaluation with ranx, under the relevance convention of the dataset.

Names in outputs are plain (``ndcg@10``, ``mrr@10``, ``recall@100``, ``map``);
binary measures are computed at the dataset's ``binary_relevance_level``
(TREC DL: rel >= 2), which ranx spells with a ``-l2`` suffix. nDCG keeps the
graded labels. Queries with judgments but no results score 0, as trec_eval -c.

ranx is handed each query's ranking under the one rule of
:mod:`harness.ranking` (as scores n..1), never the raw scores: tied documents
are then ranked as trec_eval ranks them, and a run gives the same figures in
memory and read back from its run file.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

from harness.components import Qrels, Run
from harness.errors import ConfigError, DataError
from harness.ranking import check_finite, rank_scores

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


def evaluate(
    qrels: Qrels, run: Run, metrics: list[str], binary_relevance_level: int = 1, custom: Mapping[str, Any] | None = None
) -> Evaluation:
    """Mean and per-query values of ``metrics``; ``custom`` maps extra names to Metric components."""
    if not qrels:
        raise ConfigError("cannot evaluate: the qrels are empty")
    custom = dict(custom or {})
    judged_run = {qid: dict(run.get(qid, {})) for qid in qrels}
    check_finite(judged_run, "cannot evaluate the run")
    ranx_metrics = [m for m in metrics if m not in custom]
    per_query = _ranx_per_query(qrels, judged_run, ranx_metrics, binary_relevance_level) if ranx_metrics else {}
    for metric in metrics:
        if metric in custom:
            values = custom[metric].per_query(qrels, judged_run)
            per_query[metric] = {qid: float(values.get(qid, 0.0)) for qid in qrels}
    # fsum: the mean is correctly rounded, whatever the order of the queries.
    mean = {m: math.fsum(v.values()) / len(qrels) for m, v in per_query.items()}
    return Evaluation(mean={m: mean[m] for m in metrics}, per_query=per_query)


def _ranx_per_query(qrels: Qrels, run: Run, metrics: list[str], level: int) -> dict[str, dict[str, float]]:
    import ranx

    names = {m: ranx_name(m, level) for m in metrics}
    # ranx rejects queries with no documents; make_comparable adds them back as empty (score 0).
    ranked_run = {qid: rank_scores(docs) for qid, docs in run.items() if docs}
    if not ranked_run:  # nothing retrieved for any judged query: every measure is 0 (the names still checked)
        qrels, ranked_run = {"-": {"-": 1}}, {"-": {"-": 1.0}}
    ranx_run = ranx.Run(ranked_run)
    try:
        with warnings.catch_warnings():
            # numba warns about an integer cast inside ranx's nDCG while compiling it; the cast is
            # of document counts, lossless here, and the warning only alarms users.
            warnings.filterwarnings("ignore", category=Warning, message="unsafe cast from uint64 to int64")
            ranx.evaluate(ranx.Qrels(qrels), ranx_run, list(names.values()), make_comparable=True)
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"evaluation.metrics: unknown metric in {metrics} ({exc})") from None
    return {metric: {qid: float(ranx_run.scores[name].get(qid, 0.0)) for qid in run} for metric, name in names.items()}


@functools.lru_cache(maxsize=None)
def is_ranx_metric(metric: str) -> bool:
    """Whether ranx computes ``metric`` (else it must be a Metric component's)."""
    try:
        _ranx_per_query({"q": {"d": 1}}, {"q": {"d": 1.0}}, [metric], 1)
    except ConfigError:
        return False
    return True


def require_overlap(run: Run, qrels: Qrels, run_source: str, dataset_id: str) -> None:
    """Refuse a run that shares no query with the qrels: its figures would all be 0 for no reason."""
    if not run:
        raise DataError(f"{run_source}: the run has no queries")
    if not run.keys() & qrels.keys():
        raise DataError(
            f"{run_source}: no query of the run is judged in '{dataset_id}': run queries "
            f"{some_ids(run)}; judged queries {some_ids(qrels)}. Is the run for this dataset?"
        )


def some_ids(ids, shown: int = 3) -> str:
    """A few ids for an error message: ``'a', 'b', 'c', ... (40 in all)``."""
    first = sorted(ids)[:shown]
    more = f", ... ({len(ids)} in all)" if len(ids) > shown else ""
    return ", ".join(map(repr, first)) + more
