"""Bi-encoder: query and passage encoded apart into one vector each, compared by a similarity."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from harness.models import functional
from harness.models.batching import sorted_map, tokenize
from harness.models.loading import load_model
from harness.models.scorer import NeuralScorer


class BiEncoder(NeuralScorer):
    def __init__(
        self,
        model: Optional[str] = None,
        pooling: str = "mean",
        similarity: str = "cosine",
        query_max_length: int = 64,
        passage_max_length: int = 256,
        **kwargs: Any,
    ):
        if pooling not in functional.POOLINGS:
            raise ValueError(f"pooling '{pooling}' is not one of {', '.join(functional.POOLINGS)}")
        if similarity not in functional.SIMILARITIES:
            raise ValueError(f"similarity '{similarity}' is not one of {', '.join(functional.SIMILARITIES)}")
        super().__init__(model, **kwargs)
        self.pooling, self.similarity = pooling, similarity
        self.query_max_length, self.passage_max_length = query_max_length, passage_max_length
        self.model = load_model(model, self.device, self.dtype, seed=self.seed)
        # Training's softmax temperature (harness.training.loop.loss_of): cosines are too flat for a softmax.
        self.loss_scale = 20.0 if similarity == "cosine" else 1.0

    def identity(self) -> dict[str, Any]:
        # Not the similarity: cosine and dot runs share the same passage vectors.
        return {**super().identity(), "pooling": self.pooling, "max_length": self.passage_max_length}

    def embed(self, texts: Sequence[str], max_length: int) -> Any:
        """One vector per text, with gradients where enabled (one batch, no sorting)."""
        batch = tokenize(self.tokenizer, texts, max_length, self.device)
        hidden = self.forward(**batch).last_hidden_state
        return functional.pool(hidden, batch["attention_mask"], self.pooling)

    def score(self, queries: Sequence[str], passages: Sequence[str]) -> Any:
        """Paired scores ``[n]``, differentiable: for training loops."""
        q = self.embed(queries, self.query_max_length)
        d = self.embed(passages, self.passage_max_length)
        return functional.similarity(q.float(), d.float(), self.similarity)

    def score_in_batch(self, queries: Sequence[str], passages: Sequence[str]) -> Any:
        """``[nq, np]`` scores of every query against every passage, differentiable (in-batch negatives)."""
        q = self.embed(queries, self.query_max_length)
        d = self.embed(passages, self.passage_max_length)
        return functional.similarity_matrix(q.float(), d.float(), self.similarity)

    def encode(self, texts: Sequence[str], query: bool = False, desc: str = "encode") -> Any:
        """``[n, h]`` float32 CPU vectors, in length-sorted batches under inference mode."""
        import torch

        max_length = self.query_max_length if query else self.passage_max_length
        with torch.inference_mode():
            rows = sorted_map(
                list(texts),
                [len(t) for t in texts],
                self.batch_size,
                lambda chunk: self.embed(chunk, max_length).float().cpu(),
                desc=desc,
                show=self.show_progress,
            )
        if not rows:
            return torch.empty(0, self.model.config.hidden_size)
        return torch.stack(rows)

    def score_matrix(self, q: Any, d: Any) -> Any:
        return functional.similarity_matrix(q, d, self.similarity)
