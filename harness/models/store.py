"""Encodings cached on disk through the stage cache, as safetensors (never pickle).

An entry is keyed by the encoder's identity (weights, pooling, lengths, dtype,
code) and the documents' content (ids and texts), not by the dataset id: the
DL19 and DL20 subsets of one corpus share the dense retriever's vectors. So a
second run, or another component with the same encoder (a bi-encoder with
another similarity, another query set over the same corpus), reads the
vectors instead of recomputing them. The cache counts hits and misses under the stage
name ``encodings``; the run log prints them. Like every entry, the file is
checked against its manifest on first read in a process: a corrupt one is
recomputed, never scored.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from harness.cache import stable_hash
from harness.components import Context

logger = logging.getLogger(__name__)

STAGE = "encodings"
FILE = "encodings.safetensors"


def cached_encodings(
    context: Context,
    encoder: Mapping[str, Any],
    doc_ids: Sequence[str],
    texts: Sequence[str],
    encode: Callable[[list[str]], dict[str, Any]],
) -> dict[str, Any]:
    """Tensors ``encode(doc_ids)`` returns (CPU, contiguous), computed once per encoder and documents."""
    from safetensors.torch import load_file, save_file

    ids = list(doc_ids)
    payload = {"encoder": dict(encoder), "docs": stable_hash(ids), "texts": stable_hash(list(texts)), "count": len(ids)}

    def build(folder: Path) -> None:
        logger.info("encoding %d documents (%s)", len(ids), encoder.get("kind", "encoder"))
        tensors = {k: v.detach().cpu().contiguous() for k, v in encode(ids).items()}
        save_file(tensors, str(folder / FILE))
        shapes = {k: list(v.shape) for k, v in tensors.items()}
        (folder / "meta.json").write_text(json.dumps({"count": len(ids), "shapes": shapes}))

    # Always read back what was written: a first and a cached run score the same tensors.
    return context.cache.entry(STAGE, payload, build, lambda folder: load_file(str(folder / FILE)))
