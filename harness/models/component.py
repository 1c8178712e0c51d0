"""Config fields and plumbing that the neural rerankers and the dense retriever share."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Optional

from harness.components import Component, option

logger = logging.getLogger(__name__)

DTYPES = ("auto", "float32", "fp32", "bfloat16", "bf16", "float16", "fp16", "int8")
# Fewest tokens a max length may keep: [CLS], one token of text, [SEP]. Below the
# tokenizer's own special tokens, transformers ignores max_length and truncates nothing.
MIN_TEXT_TOKENS = 3
# The config fields a bi-encoder is built from (the bi-encoder reranker and the dense retriever).
BI_ENCODER_FIELDS = ("pooling", "similarity", "query_max_length", "passage_max_length")


@dataclass
class NeuralConfig:
    model: Optional[str] = option(None, "HF id or local folder; null = the packaged all-MiniLM-L6-v2")
    batch_size: int = option(32, "texts (or pairs) per forward pass; batches are sorted by length", ge=1)
    dtype: str = option(
        "auto",
        "auto: fp32 on CPU, bf16 (fp16 on older GPUs) on CUDA; int8: the CPU fast path "
        "(ONNX Runtime, int8 weights; inference only)",
        choices=DTYPES,
    )


@dataclass
class NeuralRerankerConfig(NeuralConfig):
    top_k: int = option(100, "rerank each query's best k documents of the first stage; the rest follow below", ge=1)
    int8_check: int = option(
        5,
        "dtype=int8: this many of the run's queries are also scored in fp32, and the "
        "agreement logged (top-10 overlap, Kendall tau); 0: none",
        ge=0,
    )
    shard_size: int = option(
        1000, "queries per reranking shard, each its own cache entry (a killed run resumes at the first missing one)", ge=1
    )


class NeuralComponent(Component):
    """Builds its scorer on first use, so a stage served from the cache never loads a model."""

    _scorer: Any = None
    # dtype=int8: the agreement with fp32 of each shard scored in this process (harness.models.rerank.int8_change).
    int8_reports: list[dict[str, Any]] | None = None
    # Config fields the scorer takes under the same names, besides those every scorer takes.
    scorer_fields: tuple[str, ...] = ()

    def build_scorer(self, **common: Any) -> Any:
        raise NotImplementedError

    def scorer_options(self) -> dict[str, Any]:
        """``scorer_fields`` from the config, as keyword arguments of the scorer."""
        return {name: getattr(self.config, name) for name in self.scorer_fields}

    @property
    def scorer(self) -> Any:
        if self._scorer is None:
            c = self.config
            self._scorer = self.build_scorer(
                model=c.model,
                device=self.context.device,
                dtype=c.dtype,
                batch_size=c.batch_size,
                show_progress=self.context.show_progress,
                seed=self.context.seed,
                cache=self.context.cache,
            )
        return self._scorer

    def run_info(self, dataset: Any, queries: Any) -> dict[str, Any] | None:
        """For the run's info under ``dtype=int8``: the fp32 agreement reports of the shards scored here;
        a reranking served from the stage cache was not re-checked, and says so."""
        if self.config.dtype != "int8" or not getattr(self.config, "int8_check", 0):
            return None
        if self.int8_reports:
            return {"int8_check": self.int8_reports}
        return {"int8_check": None, "note": "served from the stage cache, not re-checked (use_cache=false re-checks)"}

    def encoder_identity(self) -> dict[str, Any]:
        """Keys cached encodings: the scorer's identity plus a trained or loaded adapter, which changes them."""
        return {**self.scorer.identity(), "trained": getattr(self, "training_key", None)}

    @property
    def model(self) -> Any:
        """The trainable torch module (for PEFT and training)."""
        return self.scorer.model

    def cache_payload(self) -> dict[str, Any]:
        # The seed initialises untrained heads and projections, and a checkpoint
        # retrained in place keeps its path: both change scores.
        from harness.models.loading import model_fingerprint

        return {**super().cache_payload(), "seed": self.context.seed, "weights": model_fingerprint(self.config.model)}
