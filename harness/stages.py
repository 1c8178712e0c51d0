"""Pipeline stages, each served from the stage cache when its inputs are unchanged."""

from __future__ import annotations

import logging
from typing import Any, Sequence

from harness.cache import code_version, stable_hash
from harness.components import Component, Context, Reranker, Retriever, Run, shard_size
from harness.cache.digests import DATA_FILES, dataset_digest
from harness.scale.shards import query_shards

logger = logging.getLogger(__name__)
_warned: set[str] = set()


def data_identity(dataset: Any, context: Context, dataset_id: str | None = None) -> dict[str, Any]:
    """What identifies a dataset's data in cache keys: the content digest of its files.

    Not where the data lies (a moved data root keeps its entries); the data
    root only for a dataset whose files could not be found, with a warning.
    """
    dataset_id = dataset_id or context.dataset_id
    digest = dataset_digest(dataset)
    if digest is not None:
        return {"dataset": dataset_id, "content": digest}
    if dataset_id not in _warned:
        _warned.add(dataset_id)
        logger.warning(
            "dataset '%s': no data file found behind its handlers, so cached stages cannot tell when "
            "its data changes; its plugin should declare its files (%s, docs/plugins.md)",
            dataset_id,
            DATA_FILES,
        )
    return {"dataset": dataset_id, "data_root": context.data_root}


def corpus_identity(dataset: Any, context: Context) -> dict[str, Any]:
    """The content identity of a dataset's documents alone (an index over them ignores its qrels)."""
    docs = dataset.docs_handler() if hasattr(dataset, "docs_handler") else dataset
    return data_identity(docs, context)


def query_digest(queries: Sequence[Any]) -> str:
    """The queries by id and content (text, and a QA query's answers and gold ids)."""
    return stable_hash(sorted([str(q.query_id), repr(tuple(q)) if isinstance(q, tuple) else ""] for q in queries))


def stage_payload(component: Component, dataset: Any, queries: Sequence[Any], upstream: str) -> dict[str, Any]:
    """What determines a stage's output: component, config, code, the dataset's content, queries, upstream."""
    return {
        "component": f"{component.kind}/{component.name}",
        "config": component.cache_payload(),
        "code": code_version(type(component)),
        "data": data_identity(dataset, component.context),
        "queries": query_digest(queries),
        "upstream": upstream,
        # a trained or loaded adapter changes the scores
        "trained": component.training_key,
    }


def first_stage(retriever: Retriever, dataset: Any, queries: Sequence[Any]) -> tuple[Run, str]:
    payload = stage_payload(retriever, dataset, queries, upstream="")
    run = retriever.context.cache.json("retrieve", payload, lambda: retriever.retrieve(dataset, queries))
    return run, stable_hash(payload)


def second_stage(reranker: Reranker, dataset: Any, queries: Sequence[Any], run: Run, upstream: str) -> tuple[Run, str]:
    """The reranked run, in shards of the run's queries (``reranker.shard_size``), each its own cache entry.

    The stage's key is the whole stage's, whatever the shards: they split the work, not the result.
    """
    payload = stage_payload(reranker, dataset, queries, upstream=upstream)
    by_id = {q.query_id: q for q in queries}

    def rerank(qids: list[str]) -> Run:
        if len(qids) == len(run):  # one shard: the whole run, as before shards
            return reranker.rerank_after(dataset, queries, run, upstream)
        part = [by_id[q] for q in qids if q in by_id]
        return reranker.rerank_after(dataset, part, {q: run[q] for q in qids}, upstream)

    context = reranker.context
    reranked = query_shards(
        context.cache, "rerank", payload, list(run), shard_size(reranker), rerank, "rerank", context.show_progress
    )
    return reranked, stable_hash(payload)
