"""Vectors on disk: the shards' ``vectors.npy`` memory-mapped, searched exactly in bounded blocks.

Exact search scores one block of at most ``block_rows`` passages (within a
shard) against a chunk of queries at a time and merges each block's best into
a running top-k, so memory is bounded by ``query_chunk x block_rows`` scores
whatever the corpus size. Reading the same vectors into memory instead gives
the same run, bit for bit. Ties are broken by corpus position (the earlier
document first), so exact ties never depend on the blocks. A float32 score's
last bit can (BLAS picks kernels by matrix shape), which is why the block size
is part of the retriever's cache key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from harness.scale.shards import IDS, VECTORS


class ShardedVectors:
    """The vectors of a corpus's shards, in corpus order, read shard by shard (memory-mapped)."""

    def __init__(self, folders: Sequence[str], in_memory: bool = False):
        import numpy as np

        self.folders = [Path(f) for f in folders]
        self.shards = [np.load(f / VECTORS, mmap_mode=None if in_memory else "r") for f in self.folders]
        self.offsets = [0]
        for shard in self.shards:
            self.offsets.append(self.offsets[-1] + len(shard))
        self.dim = next((s.shape[1] for s in self.shards if s.ndim == 2 and len(s)), 0)

    def __len__(self) -> int:
        return self.offsets[-1]

    def doc_ids(self) -> list[str]:
        ids: list[str] = []
        for folder in self.folders:
            ids.extend(json.loads((folder / IDS).read_text(encoding="utf-8")))
        return ids

    def blocks(self, block_rows: int) -> Iterator[tuple[int, Any]]:
        """``(offset, float32 array)`` blocks of at most ``block_rows`` rows, in corpus order."""
        for start, shard in zip(self.offsets, self.shards):
            for i in range(0, len(shard), block_rows):
                yield start + i, shard[i : i + block_rows]

    def rows(self, positions: Any) -> Any:
        """The vectors at global ``positions`` (a sorted-or-not integer array), as one float32 array."""
        import numpy as np

        out = np.empty((len(positions), self.dim), dtype=np.float32)
        shard_of = np.searchsorted(self.offsets, positions, side="right") - 1
        for s in np.unique(shard_of):
            mask = shard_of == s
            out[mask] = self.shards[s][np.asarray(positions)[mask] - self.offsets[s]]
        return out


def exact_search(
    queries: Any,
    vectors: ShardedVectors,
    k: int,
    score: Callable[[Any, Any], Any],
    block_rows: int = 65536,
    query_chunk: int = 256,
) -> tuple[Any, Any]:
    """``(scores, positions)`` ``[nq, k]`` of the best ``k`` passages per query (numpy; -1 where fewer)."""
    import numpy as np

    k = min(k, len(vectors))
    nq = len(queries)
    scores = np.full((nq, k), -np.inf, dtype=np.float32)
    positions = np.full((nq, k), -1, dtype=np.int64)
    for q0 in range(0, nq, query_chunk):
        best = [(np.empty(0, np.float32), np.empty(0, np.int64)) for _ in range(min(query_chunk, nq - q0))]
        for offset, block in vectors.blocks(block_rows):
            _merge_block(best, _block_scores(queries[q0 : q0 + query_chunk], block, score), offset, k)
        for row, (s, p) in enumerate(best):
            scores[q0 + row, : len(s)], positions[q0 + row, : len(p)] = s, p
    return scores, positions


def _block_scores(queries: Any, block: Any, score: Callable[[Any, Any], Any]) -> Any:
    import warnings

    import numpy as np
    import torch

    with warnings.catch_warnings():  # a read-only memory map: the scores never write to it
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        d = torch.from_numpy(np.ascontiguousarray(block))
    return score(queries, d).numpy()


def _merge_block(best: list, block: Any, offset: int, k: int) -> None:
    """Fold one block's ``[rows, b]`` scores into each row's running top-k (ties: earlier position first)."""
    import numpy as np

    b = block.shape[1]
    if b == 0:
        return
    kk = min(k, b)
    # Each row's kk-th best score; every score >= it is a candidate, so no tied document is dropped here.
    kth = np.partition(block, b - kk, axis=1)[:, b - kk]
    for row, (s, p) in enumerate(best):
        cols = np.flatnonzero(block[row] >= kth[row])
        cand_s = np.concatenate([s, block[row, cols]])
        cand_p = np.concatenate([p, cols.astype(np.int64) + offset])
        order = np.lexsort((cand_p, -cand_s))[:k]
        best[row] = (cand_s[order], cand_p[order])
