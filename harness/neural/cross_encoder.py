"""Cross-encoder: query and passage through one encoder together, a classification head gives one score.

From a plain encoder checkpoint (the packaged MiniLM) the head is new and
untrained (seeded, so deterministic) until the PEFT/training stage trains it.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from harness.neural.batching import sorted_map, tokenize
from harness.neural.models import load_model
from harness.neural.scorer import NeuralScorer


class CrossEncoder(NeuralScorer):
    def __init__(self, model: Optional[str] = None, max_length: int = 512, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.max_length = max_length
        self.model = load_model(model, self.device, self.dtype, head="classifier", seed=self.seed)

    def score(self, queries: Sequence[str], passages: Sequence[str]) -> Any:
        """Paired scores ``[n]`` (the head's logit), differentiable: for training loops."""
        batch = tokenize(self.tokenizer, queries, self.max_length, self.device, pairs=passages)
        return self.model(**batch).logits[:, 0]

    def predict(self, queries: Sequence[str], passages: Sequence[str], desc: str = "cross-encode") -> list[float]:
        """Scores in input order, in length-sorted batches under inference mode."""
        import torch

        pairs = list(zip(queries, passages))
        with torch.inference_mode():
            return sorted_map(pairs, [len(q) + len(p) for q, p in pairs], self.batch_size,
                              lambda chunk: self.score([q for q, _ in chunk], [p for _, p in chunk]).float().tolist(),
                              desc=desc, show=self.show_progress)
