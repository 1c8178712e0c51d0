"""Cross-encoder: query and passage through one encoder together, one score per pair.

Two heads over the joint encoding:

- ``classifier``: the usual one-logit classification head (monoBERT). From a
  plain encoder checkpoint (the packaged MiniLM) it is new and random (seeded),
  so it scores near chance until trained, and needs many training pairs.
- ``auto`` (default): ``classifier`` for a checkpoint that was trained as a
  sequence classifier (a real cross-encoder), else ``segment_cosine``.
- ``segment_cosine``: ``scale * cosine(mean of the query tokens' states, mean
  of the passage tokens' states)`` of the same joint pass. It has no new
  weights: it starts from the geometry a sentence-embedding checkpoint was
  trained for, so an untrained cross-encoder already ranks better than chance,
  and training refines the all-to-all interaction instead of learning a head.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from harness.models.batching import sorted_map, tokenize
from harness.models.loading import is_sequence_classifier, load_model
from harness.models.scorer import NeuralScorer

HEADS = ("auto", "classifier", "segment_cosine")


class CrossEncoder(NeuralScorer):
    def __init__(
        self, model: Optional[str] = None, max_length: int = 512, head: str = "auto", scale: float = 20.0, **kwargs: Any
    ):
        if head not in HEADS:
            raise ValueError(f"head '{head}' is not one of {', '.join(HEADS)}")
        super().__init__(model, **kwargs)
        if head == "auto":
            head = "classifier" if is_sequence_classifier(model) else "segment_cosine"
        self.max_length, self.head, self.scale = max_length, head, scale
        self.output = "logits" if head == "classifier" else "last_hidden_state"
        self.model = load_model(
            model, self.device, self.dtype, seed=self.seed, head="classifier" if head == "classifier" else "encoder"
        )

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "head": self.head, "scale": self.scale, "max_length": self.max_length}

    def score(self, queries: Sequence[str], passages: Sequence[str]) -> Any:
        """Paired scores ``[n]``, differentiable: for training loops."""
        batch = tokenize(self.tokenizer, queries, self.max_length, self.device, pairs=passages)
        if self.head == "classifier":
            return self.forward(**batch).logits[:, 0]
        return self.scale * segment_cosine(self.forward(**batch).last_hidden_state, batch)

    def predict(self, queries: Sequence[str], passages: Sequence[str], desc: str = "cross-encode") -> list[float]:
        """Scores in input order, in length-sorted batches under inference mode."""
        import torch

        pairs = list(zip(queries, passages))
        with torch.inference_mode():
            return sorted_map(
                pairs,
                [len(q) + len(p) for q, p in pairs],
                self.batch_size,
                lambda chunk: self.score([q for q, _ in chunk], [p for _, p in chunk]).float().tolist(),
                desc=desc,
                show=self.show_progress,
            )


def segment_cosine(hidden: Any, batch: dict[str, Any]) -> Any:
    """Cosine of the mean states of segment A (query) and segment B (passage), special tokens included."""
    import torch.nn.functional as F

    if "token_type_ids" not in batch:
        raise ValueError(
            "head 'segment_cosine' needs a tokenizer that marks the two segments (token_type_ids); "
            "use head=classifier for this model"
        )
    real = batch["attention_mask"].bool()
    segment_b = batch["token_type_ids"].bool()
    pools = []
    for mask in (real & ~segment_b, real & segment_b):
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pools.append((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9))
    return F.cosine_similarity(pools[0].float(), pools[1].float(), dim=-1, eps=1e-12)
