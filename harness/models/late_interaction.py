"""Late interaction (ColBERT): per-token vectors encoded apart, MaxSim summed over query tokens.

Tokens pass through the encoder, a linear projection to ``dim`` (``None``:
identity) and L2 normalisation. A marker token after ``[CLS]`` tells queries
from documents (ColBERT uses BERT's ``[unused0]``/``[unused1]``). Without a
trained checkpoint the projection is random (seeded): a Johnson-Lindenstrauss
map that roughly keeps the encoder's own similarities, i.e. zero-shot.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from harness.errors import ConfigError
from harness.models import functional
from harness.models.batching import sorted_map, tokenize
from harness.models.loading import load_model
from harness.models.scorer import NeuralScorer


def _module(encoder: Any, dim: Optional[int]) -> Any:
    import torch.nn as nn
    import torch.nn.functional as F

    class LateInteractionModel(nn.Module):
        """Encoder + projection: the trainable module (``.encoder``, ``.projection``)."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            hidden = encoder.config.hidden_size
            self.projection = nn.Linear(hidden, dim, bias=False) if dim else nn.Identity()

        def forward(self, input_ids: Any, attention_mask: Any, **kwargs: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state
            return F.normalize(self.projection(hidden).float(), dim=-1)

    return LateInteractionModel()


class LateInteraction(NeuralScorer):
    output = None  # the module returns the projected token vectors themselves

    def __init__(
        self,
        model: Optional[str] = None,
        dim: Optional[int] = 128,
        query_marker: Optional[str] = "[unused0]",
        doc_marker: Optional[str] = "[unused1]",
        query_max_length: int = 32,
        passage_max_length: int = 180,
        **kwargs: Any,
    ):
        import torch

        super().__init__(model, **kwargs)
        self.dim, self.query_max_length, self.passage_max_length = dim, query_max_length, passage_max_length
        self.markers = {"query": self._marker_id(query_marker, "query_marker"), "doc": self._marker_id(doc_marker, "doc_marker")}
        self.marker_names = (query_marker, doc_marker)
        encoder = load_model(model, self.device, self.dtype, seed=self.seed)
        torch.manual_seed(self.seed)  # the projection's init: same seed, same zero-shot scores
        self.model = _module(encoder, dim).to(self.device, self.dtype).eval()

    def _marker_id(self, token: Optional[str], key: str) -> Optional[int]:
        if token is None:
            return None
        ids = self.tokenizer.convert_tokens_to_ids([token])
        if not ids or ids[0] is None or ids[0] == self.tokenizer.unk_token_id:
            raise ConfigError(
                f"{key}: '{token}' is not a single token of the tokenizer of "
                f"'{self.model_name or 'all-MiniLM-L6-v2'}'; use one of its vocabulary or null"
            )
        return ids[0]

    def identity(self) -> dict[str, Any]:
        return {
            **super().identity(),
            "dim": self.dim,
            "markers": list(self.marker_names),
            "seed": self.seed,
            "max_length": self.passage_max_length,
        }

    def embed(self, texts: Sequence[str], doc: bool) -> tuple[Any, Any]:
        """Token vectors ``[b, L, dim]`` and mask ``[b, L]``, with gradients where enabled."""
        import torch

        marker = self.markers["doc" if doc else "query"]
        max_length = self.passage_max_length if doc else self.query_max_length
        batch = tokenize(self.tokenizer, texts, max_length - (marker is not None), self.device)
        ids, mask = batch["input_ids"], batch["attention_mask"]
        if marker is not None:  # insert the marker right after [CLS]
            column = torch.full_like(ids[:, :1], marker)
            ids = torch.cat([ids[:, :1], column, ids[:, 1:]], dim=1)
            mask = torch.cat([mask[:, :1], torch.ones_like(mask[:, :1]), mask[:, 1:]], dim=1)
        return self.forward(input_ids=ids, attention_mask=mask), mask

    def score(self, queries: Sequence[str], passages: Sequence[str]) -> Any:
        """Paired MaxSim scores ``[n]``, differentiable: for training loops."""
        q, q_mask = self.embed(queries, doc=False)
        d, d_mask = self.embed(passages, doc=True)
        return functional.maxsim(q, q_mask, d, d_mask)

    def encode(self, texts: Sequence[str], doc: bool, desc: str = "encode tokens") -> list[Any]:
        """One ``[L_i, dim]`` float32 CPU tensor per text (padding dropped), under inference mode."""
        import torch

        def run(chunk: list[str]) -> list[Any]:
            vecs, mask = self.embed(chunk, doc)
            return [v[m.bool()].float().cpu() for v, m in zip(vecs, mask)]

        with torch.inference_mode():
            return sorted_map(list(texts), [len(t) for t in texts], self.batch_size, run, desc=desc, show=self.show_progress)


def pad(vectors: Sequence[Any]) -> tuple[Any, Any]:
    """Stack ragged ``[L_i, k]`` tensors into ``[n, L, k]`` plus a mask."""
    from torch.nn.utils.rnn import pad_sequence
    import torch

    stacked = pad_sequence(list(vectors), batch_first=True)
    lengths = torch.tensor([len(v) for v in vectors])
    mask = (torch.arange(stacked.shape[1])[None, :] < lengths[:, None]).long()
    return stacked, mask


def flatten(vectors: Sequence[Any]) -> dict[str, Any]:
    """Ragged token vectors as one ``[T, k]`` tensor and ``[n+1]`` offsets (what the cache stores)."""
    import torch

    offsets = torch.zeros(len(vectors) + 1, dtype=torch.long)
    offsets[1:] = torch.cumsum(torch.tensor([len(v) for v in vectors], dtype=torch.long), 0)
    return {"vectors": torch.cat(list(vectors)) if vectors else torch.empty(0, 0), "offsets": offsets}


def unflatten(tensors: dict[str, Any]) -> list[Any]:
    offsets = tensors["offsets"].tolist()
    return [tensors["vectors"][a:b] for a, b in zip(offsets[:-1], offsets[1:])]
