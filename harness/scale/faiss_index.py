"""Approximate search through FAISS: IVF-flat, IVF-PQ and HNSW, the trained index a cached stage.

An index is built over the shards' vectors (normalised first under cosine:
inner product of unit vectors), trained on a seeded sample of them, filled
block by block and written with ``faiss.write_index``; its key holds the
shards' keys and the build parameters, not the search-time ones (``nprobe``,
``ef_search``), so tuning those reuses the index. HNSW is built on one thread:
its graph would otherwise depend on thread timing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from harness.cache import StageCache
from harness.errors import ConfigError
from harness.scale.vectors import ShardedVectors

logger = logging.getLogger(__name__)

STAGE = "faiss-index"
FILE = "index.faiss"
KINDS = ("flat", "ivf_flat", "ivf_pq", "hnsw")
BUILD_KEYS = {
    "flat": (),
    "ivf_flat": ("nlist", "train_size"),
    "ivf_pq": ("nlist", "pq_m", "pq_nbits", "train_size"),
    "hnsw": ("hnsw_m", "ef_construction"),
}


def import_faiss() -> Any:
    try:
        import faiss
    except ImportError:
        raise ConfigError(
            "retriever=dense: a FAISS index needs the package faiss-cpu (pip install faiss-cpu), or use index=exact"
        ) from None
    return faiss


def build_payload(kind: str, params: Mapping[str, Any], shard_keys: list[str], normalize: bool, seed: int) -> dict[str, Any]:
    return {
        "kind": kind,
        "params": {k: params[k] for k in BUILD_KEYS[kind]},
        "shards": shard_keys,
        "normalize": normalize,
        "seed": seed,
    }


def cached_index(
    cache: StageCache,
    vectors: ShardedVectors,
    kind: str,
    params: Mapping[str, Any],
    shard_keys: list[str],
    normalize: bool,
    seed: int,
    block_rows: int = 65536,
) -> Any:
    """The trained and filled index over ``vectors``, built once per shards and build parameters."""
    faiss = import_faiss()
    payload = build_payload(kind, params, shard_keys, normalize, seed)

    def build(folder: Path) -> None:
        index = _new_index(faiss, kind, vectors.dim, params, seed)
        logger.info("faiss: building a %s index over %d vectors", kind, len(vectors))
        threads = faiss.omp_get_max_threads()
        if kind == "hnsw":
            faiss.omp_set_num_threads(1)
        try:
            if not index.is_trained:
                _train(index, _prepared(faiss, _sample(vectors, params["train_size"], seed), normalize), kind)
            for _, block in vectors.blocks(block_rows):
                index.add(_prepared(faiss, block, normalize))
        finally:
            faiss.omp_set_num_threads(threads)
        faiss.write_index(index, str(folder / FILE))

    return cache.entry(STAGE, payload, build, lambda folder: faiss.read_index(str(folder / FILE)))


def search(index: Any, queries: Any, k: int, params: Mapping[str, Any], normalize: bool) -> tuple[Any, Any]:
    """``(scores, positions)`` ``[nq, k]`` (positions -1 where the index found fewer than ``k``)."""
    faiss = import_faiss()
    if hasattr(index, "nprobe"):
        index.nprobe = params["nprobe"]
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = max(params["ef_search"], k)
    return index.search(_prepared(faiss, queries, normalize), k)


def recall_at(approx: Any, exact: Any, k: int) -> float:
    """Mean over queries of the share of the exact top-``k`` that the approximate top-``k`` found."""
    shares = []
    for a, e in zip(approx, exact):
        truth = {int(p) for p in e[:k] if p >= 0}
        if truth:
            shares.append(len(truth & {int(p) for p in a[:k] if p >= 0}) / len(truth))
    return sum(shares) / len(shares) if shares else 1.0


def _new_index(faiss: Any, kind: str, dim: int, params: Mapping[str, Any], seed: int) -> Any:
    ip = faiss.METRIC_INNER_PRODUCT
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, params["hnsw_m"], ip)
        index.hnsw.efConstruction = params["ef_construction"]
        return index
    quantizer = faiss.IndexFlatIP(dim)
    if kind == "ivf_flat":
        index = faiss.IndexIVFFlat(quantizer, dim, params["nlist"], ip)
    else:
        if dim % params["pq_m"]:
            raise ConfigError(f"retriever.pq_m={params['pq_m']} must divide the vectors' dimension {dim}")
        index = faiss.IndexIVFPQ(quantizer, dim, params["nlist"], params["pq_m"], params["pq_nbits"], ip)
    index.cp.seed = seed  # k-means starts from a seeded sample
    return index


def _train(index: Any, sample: Any, kind: str) -> None:
    try:
        index.train(sample)
    except RuntimeError as exc:  # too few training vectors for nlist or 2**pq_nbits centroids
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"retriever.index={kind}: FAISS cannot train on {len(sample)} vectors ({first}); "
            "lower retriever.nlist or retriever.pq_nbits, or raise retriever.train_size"
        ) from None


def _sample(vectors: ShardedVectors, size: int, seed: int) -> Any:
    """A seeded sample of ``size`` vectors (all of them in a smaller corpus), in corpus order."""
    import numpy as np

    n = len(vectors)
    if n <= size:
        return vectors.rows(np.arange(n))
    positions = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))
    return vectors.rows(positions)


def _prepared(faiss: Any, block: Any, normalize: bool) -> Any:
    import numpy as np

    out = np.array(block, dtype=np.float32, copy=True, order="C")
    if normalize:
        faiss.normalize_L2(out)
    return out
