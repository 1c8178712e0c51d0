"""Long stages in shards of bounded size, each shard its own cache entry: documents and queries.

A corpus streams in shards of ``shard_size`` documents, each encoded into its
own entry: its key records ``"shard": [i, n]``, the encoder's identity and the
hashes of the shard's own ids and texts, so a killed encoding resumes at the
first missing shard and a re-run reads every finished one. An entry holds
``vectors.npy`` (float32, read memory-mapped) and ``ids.json``. Only one
shard's texts are in memory at a time (per worker).

A per-query stage (reranking, generation) runs in shards of ``shard_size``
queries through ``query_shards``: each shard is a JSON entry of the stage whose
key is the whole stage's key plus ``"shard": [i, n]`` and the hash of the
shard's query ids, so a killed run loses at most one shard and its result is
an uninterrupted run's. A stage of one shard keeps the whole stage's key.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

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


def stream_shards(
    dataset: Any, shard_size: int, encoder: Mapping[str, Any], count: int | None = None
) -> tuple[int, Iterator[Shard]]:
    """The number of shards, and the dataset's documents in order, ``shard_size`` at a time, with their payloads.

    ``count``: the corpus size where the caller counted it already (else counted here).
    """
    n = max(1, math.ceil((doc_count(dataset) if count is None else count) / shard_size))
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
    payload = {"encoder": dict(encoder), **shard_fields(index, n, ids, "docs"), "texts": stable_hash(texts)}
    return Shard(index, n, ids, texts, payload)


def shard_fields(index: int, n: int, ids: Sequence[str], name: str) -> dict[str, Any]:
    """What every shard's key records: ``"shard": [i, n]``, the hash of its own ids (under ``name``) and their count."""
    return {"shard": [index, n], name: stable_hash(list(ids)), "count": len(ids)}


class ShardProgress:
    """A progress bar of shards, with the items done and the shards computed (not read from the cache) beside it."""

    def __init__(self, n: int, items: int, desc: str, unit: str, show: bool):
        from tqdm.auto import tqdm

        self.items, self.unit, self.done, self.computed = items, unit, 0, 0
        self.bar = tqdm(total=n, desc=desc, unit="shard", disable=not show, leave=False)

    def __enter__(self) -> "ShardProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.close()

    def update(self, items: int, computed: bool) -> None:
        self.done += items
        self.computed += int(computed)
        self.bar.update(1)
        self.bar.set_postfix({self.unit: f"{self.done}/{self.items}", "computed": self.computed})


def query_shards(
    cache: StageCache,
    stage: str,
    payload: Mapping[str, Any],
    ids: Sequence[str],
    shard_size: int | None,
    compute: Callable[[list[str]], Mapping[str, Any]],
    desc: str,
    show_progress: bool = False,
) -> dict[str, Any]:
    """``compute(part)`` (a ``{query id: value}`` for the ids of ``part``) over ``ids`` in shards of ``shard_size``.

    Each shard is a JSON entry of ``stage`` keyed by ``payload`` (what the
    whole stage depends on) and the shard's fields; one shard (``shard_size``
    None, or at least ``len(ids)``) is the one entry keyed by ``payload``
    alone, as before stages had shards. The values come back in ``ids``' order.
    """
    ids = list(ids)
    size = shard_size or max(1, len(ids))
    n = max(1, math.ceil(len(ids) / size))
    if n == 1:
        return dict(cache.json(stage, payload, lambda: compute(ids)))
    out: dict[str, Any] = {}
    with ShardProgress(n, len(ids), desc, "queries", show_progress) as progress:
        for index in range(n):
            part = ids[index * size : (index + 1) * size]
            misses = cache.stats[f"{stage}.miss"]
            key = {**payload, **shard_fields(index, n, part, "query_ids")}
            out.update(cache.json(stage, key, lambda: _logged(compute, part, f"{desc} shard {index + 1}/{n}")))
            progress.update(len(part), cache.stats[f"{stage}.miss"] > misses)
    return out


def _logged(compute: Callable[[list[str]], Mapping[str, Any]], part: list[str], what: str) -> Mapping[str, Any]:
    logger.info("%s (%d queries)", what, len(part))
    return compute(part)


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
