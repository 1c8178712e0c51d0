"""Pipeline stages, each served from the stage cache when its inputs are unchanged."""

from __future__ import annotations

from typing import Any, Sequence

from harness.cache import code_version, stable_hash
from harness.components import Component, Reranker, Retriever, Run


def stage_payload(component: Component, queries: Sequence[Any], upstream: str) -> dict[str, Any]:
    """What determines a stage's output: component, config, code, dataset, queries, upstream."""
    ctx = component.context
    return {
        "component": f"{component.kind}/{component.name}",
        "config": component.cache_payload(),
        "code": code_version(type(component)),
        "dataset": ctx.dataset_id,
        "data_root": ctx.data_root,
        "queries": stable_hash(sorted(q.query_id for q in queries)),
        "upstream": upstream,
        # a trained or loaded adapter changes the scores
        "trained": getattr(component, "training_key", None),
    }


def first_stage(retriever: Retriever, dataset: Any, queries: Sequence[Any]) -> tuple[Run, str]:
    payload = stage_payload(retriever, queries, upstream="")
    run = retriever.context.cache.json("retrieve", payload, lambda: retriever.retrieve(dataset, queries))
    return run, stable_hash(payload)


def second_stage(reranker: Reranker, dataset: Any, queries: Sequence[Any], run: Run, upstream: str) -> tuple[Run, str]:
    reranker.context.upstream_key = upstream
    payload = stage_payload(reranker, queries, upstream=upstream)
    reranked = reranker.context.cache.json("rerank", payload, lambda: reranker.rerank(dataset, queries, run))
    return reranked, stable_hash(payload)
