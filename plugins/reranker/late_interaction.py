"""``reranker=late_interaction``: ColBERT-style MaxSim over per-token vectors.

Document token vectors are cached on disk (float16, flat with offsets) per
encoder, projection and document set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from harness.components import Reranker, Run, option
from harness.hookspecs import hookimpl
from harness.models.component import MIN_TEXT_TOKENS, NeuralComponent, NeuralRerankerConfig
from harness.models.rerank import rerank_encoded


@dataclass
class LateInteractionConfig(NeuralRerankerConfig):
    dim: Optional[int] = option(128, "projection size of token vectors (ColBERT: 128); null = no projection", ge=1)
    query_marker: Optional[str] = option("[unused0]", "token put after [CLS] of queries (null = none)")
    doc_marker: Optional[str] = option("[unused1]", "token put after [CLS] of documents (null = none)")
    # One more than a plain text: the marker token goes after [CLS].
    query_max_length: int = option(32, "query tokens kept (ColBERT: 32)", ge=MIN_TEXT_TOKENS + 1)
    passage_max_length: int = option(180, "document tokens kept (ColBERT: 180)", ge=MIN_TEXT_TOKENS + 1)


class LateInteractionReranker(NeuralComponent, Reranker):
    Config = LateInteractionConfig

    scorer_fields = ("dim", "query_marker", "doc_marker", "query_max_length", "passage_max_length")

    def build_scorer(self, **common: Any) -> Any:
        from harness.models.late_interaction import LateInteraction

        return LateInteraction(**self.scorer_options(), **common)

    def rerank(self, dataset: Any, queries: Sequence[Any], run: Run) -> Run:
        return rerank_encoded(self, dataset, queries, run, self.encode_passages, self.score)

    def encode_passages(self, passages: list[str]) -> dict[str, Any]:
        """Token vectors, flat (what the cache stores), in float16."""
        from harness.models.late_interaction import flatten

        flat = flatten(self.scorer.encode(passages, doc=True, desc="documents"))
        return {"vectors": flat["vectors"].half(), "offsets": flat["offsets"]}

    def score(
        self, texts: dict[str, str], cands: dict[str, list[str]], doc_ids: list[str], tensors: dict[str, Any]
    ) -> dict[str, dict[str, float]]:
        """MaxSim of each query's token vectors against its candidates' (``tensors``: ``doc_ids``' flat token vectors)."""
        import torch

        from harness.models.functional import maxsim
        from harness.models.late_interaction import pad, unflatten

        docs = dict(zip(doc_ids, unflatten(tensors)))

        qids = list(cands)
        q_vectors = self.scorer.encode([texts[q] for q in qids], doc=False, desc="queries")
        reranked = {}
        with torch.inference_mode():
            for qid, q in zip(qids, q_vectors):
                d, d_mask = pad([docs[x].float() for x in cands[qid]])
                n = len(cands[qid])
                scores = maxsim(q[None].expand(n, -1, -1), torch.ones(n, len(q)), d, d_mask).tolist()
                reranked[qid] = dict(zip(cands[qid], scores))
        return reranked


@hookimpl
def harness_add_rerankers():
    return {"late_interaction": LateInteractionReranker}
