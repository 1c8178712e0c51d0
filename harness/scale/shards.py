"""A corpus streamed in shards of ``shard_size`` documents, each encoded into its own cache entry.

A shard's key records ``"shard": [i, n]``, the encoder's identity and the
hashes of the shard's own ids and texts, so a killed encoding resumes at the
first missing shard and a re-run reads every finished one. An entry holds
``vectors.npy`` (float32, read memory-mapped) and ``ids.json``. Only one
shard's texts are in memory at a time (per worker).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from harness.cache import StageCache, stable_hash

logger = logging.getLogger(__name__)

STAGE = "corpus-shards"
VECTORS = "vectors.npy"
IDS = "ids.json"


@dataclass
class Shard:
    """One shard to encode: its position, its documents and its cache payload."""

    index: int
    count: int
    ids: list[str]
    texts: list[str]
    payload: dict[str, Any]


def doc_count(dataset: Any) -> int:
    """The corpus size: ``docs_count()`` where the dataset has it, else one pass over its documents."""
    counter = getattr(dataset, "docs_count", None)
    if callable(counter):
        count = counter()
        if isinstance(count, int):
            return count
    return sum(1 for _ in dataset.docs_iter())


def stream_shards(dataset: Any, shard_size: int, encoder: Mapping[str, Any]) -> tuple[int, Iterator[Shard]]:
    """The number of shards, and the dataset's documents in order, ``shard_size`` at a time, with their payloads."""
    n = max(1, math.ceil(doc_count(dataset) / shard_size))
    return n, _iterate(dataset, shard_size, n, encoder)


def _iterate(dataset: Any, shard_size: int, n: int, encoder: Mapping[str, Any]) -> Iterator[Shard]:
    ids: list[str] = []
    texts: list[str] = []
    index = 0
    for doc in dataset.docs_iter():
        ids.append(doc.doc_id)
        texts.append(doc.default_text())
        if len(ids) == shard_size:
            yield _shard(index, n, ids, texts, encoder)
            index, ids, texts = index + 1, [], []
    if ids or index == 0:
        yield _shard(index, n, ids, texts, encoder)


def _shard(index: int, n: int, ids: list[str], texts: list[str], encoder: Mapping[str, Any]) -> Shard:
    payload = {
        "encoder": dict(encoder),
        "shard": [index, n],
        "docs": stable_hash(ids),
        "texts": stable_hash(texts),
        "count": len(ids),
    }
    return Shard(index, n, ids, texts, payload)


def encode_shard(cache: StageCache, shard: Shard, encode: Callable[[list[str], str], Any]) -> str:
    """The folder of ``shard``'s entry, encoded with ``encode(texts, desc)`` when absent or corrupt."""
    import numpy as np

    def build(folder: Path) -> None:
        logger.info("encoding shard %d/%d (%d documents)", shard.index + 1, shard.count, len(shard.ids))
        vectors = encode(shard.texts, f"corpus shard {shard.index + 1}/{shard.count}")
        np.save(folder / VECTORS, np.ascontiguousarray(np.asarray(vectors, dtype=np.float32)))
        (folder / IDS).write_text(json.dumps(shard.ids), encoding="utf-8")

    return str(cache.directory(STAGE, shard.payload, build))


def shard_keys(folders: Iterable[str]) -> list[str]:
    """The shards' cache keys (their folders' names): what an index built over them depends on."""
    return [Path(f).name for f in folders]


def encode_task(owner: Any, shard: Shard) -> tuple[str, dict[str, int]]:
    """One shard encoded by ``owner`` (a component with ``context.cache`` and ``scorer.encode``), in any process.

    Returns the entry's folder and the cache counts it added (the hit or miss),
    which a worker process hands back to the main one.
    """
    cache = owner.context.cache
    before = dict(cache.stats)
    folder = encode_shard(cache, shard, lambda texts, desc: owner.scorer.encode(texts, desc=desc).numpy())
    return folder, {k: v - before.get(k, 0) for k, v in cache.stats.items() if v != before.get(k, 0)}
