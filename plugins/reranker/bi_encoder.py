"""``reranker=bi_encoder``: query and passages encoded apart, ranked by vector similarity.

Passage vectors are cached on disk per encoder and document set, so another
run with the same encoder (a sweep over similarity or top_k below the depth
already encoded, a rerun after a code change elsewhere) reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from harness.components import Reranker, Run, option
from harness.hookspecs import hookimpl
from harness.models.component import BI_ENCODER_FIELDS, MIN_TEXT_TOKENS, NeuralComponent, NeuralRerankerConfig
from harness.models.functional import POOLINGS, SIMILARITIES
from harness.models.rerank import rerank_encoded


@dataclass
class BiEncoderConfig(NeuralRerankerConfig):
    pooling: str = option("mean", "token pooling (mean: all-MiniLM-L6-v2's own)", choices=POOLINGS)
    similarity: str = option("cosine", "vector similarity", choices=SIMILARITIES)
    query_max_length: int = option(64, "query tokens kept", ge=MIN_TEXT_TOKENS)
    passage_max_length: int = option(256, "passage tokens kept (all-MiniLM-L6-v2 was trained with 256)", ge=MIN_TEXT_TOKENS)


class BiEncoderReranker(NeuralComponent, Reranker):
    Config = BiEncoderConfig

    scorer_fields = BI_ENCODER_FIELDS

    def build_scorer(self, **common: Any) -> Any:
        from harness.models.bi_encoder import BiEncoder

        return BiEncoder(**self.scorer_options(), **common)

    def rerank(self, dataset: Any, queries: Sequence[Any], run: Run) -> Run:
        return rerank_encoded(self, dataset, queries, run, self.encode_passages, self.score)

    def encode_passages(self, passages: list[str]) -> dict[str, Any]:
        return {"vectors": self.scorer.encode(passages, desc="passages")}

    def score(
        self, texts: dict[str, str], cands: dict[str, list[str]], doc_ids: list[str], tensors: dict[str, Any]
    ) -> dict[str, dict[str, float]]:
        """Each query's candidates scored against its vector (``tensors["vectors"]`` row i: ``doc_ids[i]``)."""
        vectors = tensors["vectors"]
        row = {d: i for i, d in enumerate(doc_ids)}
        qids = list(cands)
        q_vectors = self.scorer.encode([texts[q] for q in qids], query=True, desc="queries")
        reranked = {}
        for qid, q in zip(qids, q_vectors):
            rows = [row[d] for d in cands[qid]]
            scores = self.scorer.score_matrix(q[None], vectors[rows])[0].tolist()
            reranked[qid] = dict(zip(cands[qid], scores))
        return reranked


@hookimpl
def harness_add_rerankers():
    return {"bi_encoder": BiEncoderReranker}
