"""``retriever=dense``: the bi-encoder as a first stage over the whole corpus, at any corpus size.

The corpus streams from ``docs_iter`` in shards of ``shard_size`` documents,
each encoded into its own cache entry (``harness.scale.shards``): a killed run
resumes at the first missing shard, and only one shard's texts are in memory.
The shards run serially, on ``workers`` local processes (``executor=local``)
or on a local Ray cluster (``executor=ray``), with identical vectors.
Vectors stay on disk, memory-mapped; ``index=exact`` searches them in
bounded-memory blocks (ties: earlier document first). ``faiss`` is FAISS's
flat index (exact too); ``ivf_flat``, ``ivf_pq`` and ``hnsw`` are approximate,
their trained index a cached stage, and their recall@``recall_k`` against
exact search on the run's queries goes into the run's info.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from harness.cache import stable_hash
from harness.components import Retriever, Run, option
from harness.hookspecs import hookimpl
from harness.models.component import BI_ENCODER_FIELDS, MIN_TEXT_TOKENS, NeuralComponent, NeuralConfig
from harness.models.functional import POOLINGS, SIMILARITIES
from harness.models.rerank import query_texts
from harness.scale import faiss_index
from harness.scale.executors import EXECUTORS, run_ordered
from harness.scale.shards import ShardProgress, doc_count, encode_task, shard_keys, stream_shards
from harness.scale.vectors import ShardedVectors, exact_search

logger = logging.getLogger(__name__)

INDEXES = ("exact", "faiss", "ivf_flat", "ivf_pq", "hnsw")
# Options that change how the work is spread or measured, never the run: left out of the stage's key.
NOT_IN_KEY = ("executor", "workers", "recall_k")


@dataclass
class DenseConfig(NeuralConfig):
    top_k: int = option(1000, "documents returned per query", ge=1)
    pooling: str = option("mean", "token pooling (mean: all-MiniLM-L6-v2's own)", choices=POOLINGS)
    similarity: str = option("cosine", "vector similarity", choices=SIMILARITIES)
    query_max_length: int = option(64, "query tokens kept", ge=MIN_TEXT_TOKENS)
    passage_max_length: int = option(256, "passage tokens kept", ge=MIN_TEXT_TOKENS)
    index: str = option(
        "exact",
        "exact: blocked search over the vectors on disk; faiss: FAISS flat (exact); "
        "ivf_flat, ivf_pq, hnsw: approximate FAISS indexes (need faiss-cpu)",
        choices=INDEXES,
    )
    shard_size: int = option(50000, "documents per encoding shard, each its own cache entry", ge=1)
    search_block: int = option(65536, "passages scored at once by exact search (bounds its memory)", ge=1)
    nlist: int = option(1024, "ivf_*: clusters (k-means on train_size sampled vectors)", ge=1)
    nprobe: int = option(64, "ivf_*: clusters searched per query", ge=1)
    pq_m: int = option(48, "ivf_pq: sub-quantizers (must divide the vector dimension)", ge=1)
    pq_nbits: int = option(8, "ivf_pq: bits per sub-quantizer code", ge=1, le=16)
    hnsw_m: int = option(32, "hnsw: neighbours per node", ge=2)
    ef_construction: int = option(200, "hnsw: candidate list size while building", ge=1)
    ef_search: int = option(256, "hnsw: candidate list size while searching (at least top_k)", ge=1)
    train_size: int = option(100000, "ivf_*: vectors sampled (seeded) to train the index", ge=1)
    recall_k: int = option(100, "approximate indexes: recall@k against exact search, in the run's info", ge=1)
    executor: str = option(
        "serial", "where encoding shards run: serial, local (processes), ray (local cluster)", choices=EXECUTORS
    )
    workers: int = option(1, "executor=local|ray: parallel workers (torch threads split among them)", ge=1)


class DenseRetriever(NeuralComponent, Retriever):
    Config = DenseConfig
    _index_info: Any = None

    scorer_fields = BI_ENCODER_FIELDS

    def build_scorer(self, **common: Any) -> Any:
        from harness.models.bi_encoder import BiEncoder

        return BiEncoder(**self.scorer_options(), **common)

    def cache_payload(self) -> Mapping[str, Any]:
        return {k: v for k, v in super().cache_payload().items() if k not in NOT_IN_KEY}

    def corpus_vectors(self, dataset: Any) -> ShardedVectors:
        """The corpus's vectors, shard by shard: read from the cache, the missing shards encoded."""
        c = self.config
        total = doc_count(dataset)
        n, shards = stream_shards(dataset, c.shard_size, self.encoder_identity(), total)
        executor, state = self._executor()
        folders = []
        with ShardProgress(n, total, "corpus shards", "documents", self.context.show_progress) as progress:
            for folder, stats in run_ordered(encode_task, shards, state, executor, c.workers):
                folders.append(folder)
                if executor != "serial":  # a worker's cache counted them in its own process
                    self.context.cache.stats.update(stats)
                progress.update(min(c.shard_size, total - progress.done), stats.get("corpus-shards.miss", 0) > 0)
        return ShardedVectors(folders)

    def _executor(self) -> tuple[str, Any]:
        c = self.config
        if c.executor == "serial" or c.workers == 1:
            return "serial", self
        if getattr(self, "training_key", None):
            logger.warning(
                "retriever=dense: executor=%s encodes with the weights from disk, and this encoder "
                "was trained in this process: encoding its shards serially",
                c.executor,
            )
            return "serial", self
        state = copy.copy(self)
        state._scorer = None  # each worker loads the weights itself
        state.context = copy.copy(self.context)
        state.context.show_progress = False
        return c.executor, state

    def retrieve(self, dataset: Any, queries: Sequence[Any]) -> Run:
        vectors = self.corpus_vectors(dataset)
        texts = query_texts(queries)
        qids = list(texts)
        q = self.scorer.encode([texts[x] for x in qids], query=True, desc="queries")
        k = min(self.config.top_k, len(vectors))
        if k == 0:
            return {qid: {} for qid in qids}
        scores, positions = self.search(q, vectors, k)
        doc_ids = vectors.doc_ids()
        return {
            qid: {doc_ids[p]: float(s) for s, p in zip(srow, prow) if p >= 0}
            for qid, srow, prow in zip(qids, scores.tolist(), positions.tolist())
        }

    def search(self, q: Any, vectors: ShardedVectors, k: int) -> tuple[Any, Any]:
        """``(scores, positions)`` of the best ``k`` passages per query, by the configured index."""
        c = self.config
        if c.index == "exact":
            return self._exact(q, vectors, k)
        kind = "flat" if c.index == "faiss" else c.index
        normalize = c.similarity == "cosine"
        params = {
            f: getattr(c, f)
            for f in ("nlist", "nprobe", "pq_m", "pq_nbits", "hnsw_m", "ef_construction", "ef_search", "train_size")
        }
        params["nlist"] = min(c.nlist, len(vectors))
        index = faiss_index.cached_index(
            self.context.cache,
            vectors,
            kind,
            params,
            shard_keys(str(f) for f in vectors.folders),
            normalize,
            self.context.seed,
            c.search_block,
        )
        started = time.perf_counter()
        scores, positions = faiss_index.search(index, q.numpy(), k, params, normalize)
        seconds = time.perf_counter() - started
        if kind != "flat":
            self._index_info = self._recall(q, vectors, positions, k, seconds)
        return scores, positions

    def _exact(self, q: Any, vectors: ShardedVectors, k: int) -> tuple[Any, Any]:
        return exact_search(q, vectors, k, self.scorer.score_matrix, block_rows=self.config.search_block)

    def _recall(self, q: Any, vectors: ShardedVectors, positions: Any, k: int, seconds: float) -> dict[str, Any]:
        rk = min(self.config.recall_k, k)
        started = time.perf_counter()
        _, exact = self._exact(q, vectors, rk)
        recall = faiss_index.recall_at(positions, exact, rk)
        logger.info("retriever=dense: index=%s recall@%d %.4f against exact search", self.config.index, rk, recall)
        return {
            "index": self.config.index,
            f"recall@{rk}": round(recall, 6),
            "queries": len(q),
            "search_seconds": round(seconds, 4),
            "exact_seconds": round(time.perf_counter() - started, 4),
        }

    def run_info(self, dataset: Any, queries: Sequence[Any]) -> dict[str, Any] | None:
        """For the run's info: an approximate index's recall against exact search (cached with the stage)."""
        from harness.stages import stage_payload

        if self.config.index in ("exact", "faiss"):
            return None
        key = {"retrieve": stable_hash(stage_payload(self, dataset, queries, upstream="")), "recall_k": self.config.recall_k}

        def measure() -> dict[str, Any]:
            if self._index_info is None:  # the run came from the cache: measure it anew, once
                self.retrieve(dataset, queries)
            return self._index_info

        return self.context.cache.json("index-recall", key, measure)


@hookimpl
def harness_add_retrievers():
    return {"dense": DenseRetriever}
