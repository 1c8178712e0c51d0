"""``reranker=rrf``: reciprocal rank fusion of the input run with other components' runs.

score(d) = sum over runs of 1 / (k + rank of d in that run), through
``ranx.fuse`` (Cormack et al., 2009). The fused components are ordinary
registered ones, built from the configs in ``fuse``; their runs go through the
stage cache, so a sweep over ``k`` computes each of them once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

from harness import stages
from harness.cache import code_version
from harness.components import Reranker, Run, option
from harness.errors import ConfigError, DataError

logger = logging.getLogger(__name__)
KINDS = ("retriever", "reranker")


@dataclass
class RRFConfig:
    fuse: List[Dict[str, Any]] = option(
        [{"name": "bm25"}],
        "configs of the registered components whose runs are fused: name, "
        "kind (retriever, the default, or reranker: it reranks the input run) and their options",
    )
    include_input: bool = option(True, "fuse the run this reranker is given (the first stage) too")
    k: int = option(60, "rank constant: a document scores sum(1 / (k + rank))")
    top_k: int = option(100, "documents kept per query after fusion")


class RRFReranker(Reranker):
    Config = RRFConfig

    def __init__(self, config: RRFConfig, context: Any):
        super().__init__(config, context)
        runs = len(config.fuse) + int(config.include_input)
        if runs < 2:
            raise ConfigError(
                f"reranker=rrf: fusion needs at least two runs, got {runs} "
                f"(fuse has {len(config.fuse)} entries, include_input={config.include_input})"
            )
        self.members = [self._build(i, dict(entry)) for i, entry in enumerate(config.fuse)]

    def _build(self, index: int, entry: dict) -> Any:
        from harness.plugin_manager import get_plugin_manager
        from harness.registry import ComponentRegistry

        kind = entry.pop("kind", "retriever")
        if kind not in KINDS:
            raise ConfigError(f"reranker=rrf: fuse[{index}].kind must be one of {', '.join(KINDS)}, got '{kind}'")
        return ComponentRegistry(get_plugin_manager()).create(kind, entry, self.context, where=f"reranker=rrf fuse[{index}]")

    def cache_payload(self) -> dict[str, Any]:
        # The members' code is part of the key: an edited bm25 must not be served stale.
        return {**super().cache_payload(), "members_code": [code_version(type(m)) for m in self.members]}

    def rerank(self, dataset: Any, queries: Sequence[Any], run: Run) -> Run:
        return self.rerank_after(dataset, queries, run, upstream="")

    def rerank_after(self, dataset: Any, queries: Sequence[Any], run: Run, upstream: str) -> Run:
        """Fuse the members' runs; a reranking member's stage is keyed by ``upstream``, the key of ``run``."""
        _check(queries, run)
        if not queries:
            return {}
        wanted = {q.query_id for q in queries}
        runs = [{q: d for q, d in run.items() if q in wanted}] if self.config.include_input else []
        for member in self.members:
            if member.kind == "retriever":
                runs.append(stages.first_stage(member, dataset, queries)[0])
            else:
                runs.append(stages.second_stage(member, dataset, queries, run, upstream=upstream)[0])
        return fuse(runs, wanted, self.config.k, self.config.top_k)


def fuse(runs: list[Run], query_ids: set[str], k: int, top_k: int) -> Run:
    """RRF through ranx, per group of queries that the same runs answer (ranx wants equal query sets)."""
    from ranx import Run as RanxRun
    from ranx import fuse as ranx_fuse

    groups: dict[tuple[int, ...], list[str]] = {}
    for qid in sorted(query_ids):
        groups.setdefault(tuple(i for i, r in enumerate(runs) if r.get(qid)), []).append(qid)
    fused: Run = {}
    for members, qids in groups.items():
        if not members:
            continue  # no run retrieved anything for these queries
        parts = [RanxRun({q: {d: float(s) for d, s in runs[i][q].items()} for q in qids}) for i in members]
        result = (
            ranx_fuse(parts, method="rrf", params={"k": k}).to_dict()
            if len(parts) > 1
            else {q: {d: 1.0 / (k + r) for r, d in enumerate(_ranked(runs[members[0]][q]), 1)} for q in qids}
        )
        for qid in qids:
            ranked = sorted(result[qid].items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
            fused[qid] = {d: float(s) for d, s in ranked}
    return fused


def _ranked(docs: dict[str, float]) -> list[str]:
    return sorted(docs, key=lambda d: (-docs[d], d))


def _check(queries: Sequence[Any], run: Run) -> None:
    for query in queries:
        if not hasattr(query, "query_id"):
            raise DataError(f"reranker=rrf: expected query records with a query_id, got {query!r}")
    for qid, docs in run.items():
        for doc_id, score in docs.items():
            if isinstance(score, bool) or not isinstance(score, (int, float)):
                raise DataError(f"reranker=rrf: score of ({qid}, {doc_id}) in the input run is not a number: {score!r}")
