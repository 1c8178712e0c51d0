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
from harness.models.rerank import candidates, int8_change, passage_texts, query_texts, rebuild
from harness.models.store import cached_encodings


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

    def build_scorer(self, **common: Any) -> Any:
        from harness.models.late_interaction import LateInteraction

        c = self.config
        return LateInteraction(
            dim=c.dim,
            query_marker=c.query_marker,
            doc_marker=c.doc_marker,
            query_max_length=c.query_max_length,
            passage_max_length=c.passage_max_length,
            **common,
        )

    def rerank(self, dataset: Any, queries: Sequence[Any], run: Run) -> Run:
        from harness.models.late_interaction import flatten, unflatten

        texts = query_texts(queries)
        cands = {qid: docs for qid, docs in candidates(run, self.config.top_k).items() if qid in texts}
        doc_ids = sorted({d for docs in cands.values() for d in docs})
        passages = passage_texts(dataset, doc_ids, self.context.dataset_id)

        def encode(ids: list[str]) -> dict[str, Any]:
            flat = flatten(self.scorer.encode([passages[d] for d in ids], doc=True, desc="documents"))
            return {"vectors": flat["vectors"].half(), "offsets": flat["offsets"]}

        docs = unflatten(cached_encodings(self.context, self.encoder_identity(), doc_ids, [passages[d] for d in doc_ids], encode))
        reranked = self.score(texts, cands, dict(zip(doc_ids, docs)))

        def rescore(qids: list[str]) -> dict[str, dict[str, float]]:  # fp32, uncached: the int8 check
            sub = {q: cands[q] for q in qids}
            ids = sorted({d for x in sub.values() for d in x})
            fresh = self.scorer.encode([passages[d] for d in ids], doc=True, desc="documents")
            return self.score(texts, sub, {d: v.half() for d, v in zip(ids, fresh)})

        int8_change(self, reranked, rescore)
        return rebuild(run, reranked)

    def score(self, texts: dict[str, str], cands: dict[str, list[str]], docs: dict[str, Any]) -> dict[str, dict[str, float]]:
        """MaxSim of each query's token vectors against its candidates' (``docs``: id -> ``[L, dim]``)."""
        import torch

        from harness.models.functional import maxsim
        from harness.models.late_interaction import pad

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
