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
from harness.models.component import MIN_TEXT_TOKENS, NeuralComponent, NeuralRerankerConfig
from harness.models.functional import POOLINGS, SIMILARITIES
from harness.models.rerank import candidates, int8_change, passage_texts, query_texts, rebuild
from harness.models.store import cached_encodings


@dataclass
class BiEncoderConfig(NeuralRerankerConfig):
    pooling: str = option("mean", "token pooling (mean: all-MiniLM-L6-v2's own)", choices=POOLINGS)
    similarity: str = option("cosine", "vector similarity", choices=SIMILARITIES)
    query_max_length: int = option(64, "query tokens kept", ge=MIN_TEXT_TOKENS)
    passage_max_length: int = option(256, "passage tokens kept (all-MiniLM-L6-v2 was trained with 256)", ge=MIN_TEXT_TOKENS)


class BiEncoderReranker(NeuralComponent, Reranker):
    Config = BiEncoderConfig

    def build_scorer(self, **common: Any) -> Any:
        from harness.models.bi_encoder import BiEncoder

        c = self.config
        return BiEncoder(
            pooling=c.pooling,
            similarity=c.similarity,
            query_max_length=c.query_max_length,
            passage_max_length=c.passage_max_length,
            **common,
        )

    def rerank(self, dataset: Any, queries: Sequence[Any], run: Run) -> Run:
        texts = query_texts(queries)
        cands = {qid: docs for qid, docs in candidates(run, self.config.top_k).items() if qid in texts}
        doc_ids = sorted({d for docs in cands.values() for d in docs})
        passages = passage_texts(dataset, doc_ids, self.context.dataset_id)
        encode = lambda ids: {"vectors": self.scorer.encode([passages[d] for d in ids], desc="passages")}
        vectors = cached_encodings(self.context, self.encoder_identity(), doc_ids, [passages[d] for d in doc_ids], encode)[
            "vectors"
        ]
        reranked = self.score(texts, cands, doc_ids, vectors)

        def rescore(qids: list[str]) -> dict[str, dict[str, float]]:  # fp32, uncached: the int8 check
            sub = {q: cands[q] for q in qids}
            ids = sorted({d for docs in sub.values() for d in docs})
            return self.score(texts, sub, ids, self.scorer.encode([passages[d] for d in ids], desc="passages"))

        int8_change(self, reranked, rescore)
        return rebuild(run, reranked)

    def score(
        self, texts: dict[str, str], cands: dict[str, list[str]], doc_ids: list[str], vectors: Any
    ) -> dict[str, dict[str, float]]:
        """Each query's candidates scored against its vector (``vectors`` row i: ``doc_ids[i]``)."""
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
