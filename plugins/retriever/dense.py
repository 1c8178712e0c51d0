"""``retriever=dense``: the bi-encoder as a first stage, exact search over the whole corpus.

Passage vectors are encoded once per encoder and corpus and cached on disk;
search is an exact matrix product in query chunks (31k x 384 floats take
50 MB). ``index: faiss`` uses a FAISS flat index instead (same results; it
pays off with the full 8.8M collection), if ``faiss-cpu`` is installed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

from harness.components import Retriever, Run, option
from harness.errors import ConfigError
from harness.hookspecs import hookimpl
from harness.models.component import MIN_TEXT_TOKENS, NeuralComponent, NeuralConfig
from harness.models.functional import POOLINGS, SIMILARITIES
from harness.models.rerank import query_texts
from harness.models.store import cached_encodings

logger = logging.getLogger(__name__)


@dataclass
class DenseConfig(NeuralConfig):
    top_k: int = option(1000, "documents returned per query", ge=1)
    pooling: str = option("mean", "token pooling (mean: all-MiniLM-L6-v2's own)", choices=POOLINGS)
    similarity: str = option("cosine", "vector similarity", choices=SIMILARITIES)
    query_max_length: int = option(64, "query tokens kept", ge=MIN_TEXT_TOKENS)
    passage_max_length: int = option(256, "passage tokens kept", ge=MIN_TEXT_TOKENS)
    index: str = option("exact", "exact: torch matrix product; faiss: needs faiss-cpu", choices=("exact", "faiss"))


class DenseRetriever(NeuralComponent, Retriever):
    Config = DenseConfig

    def build_scorer(self, **common: Any) -> Any:
        from harness.models.bi_encoder import BiEncoder

        c = self.config
        return BiEncoder(pooling=c.pooling, similarity=c.similarity, query_max_length=c.query_max_length,
                         passage_max_length=c.passage_max_length, **common)

    def corpus_vectors(self, dataset: Any) -> tuple[list[str], Any]:
        doc_ids, texts = [], []
        for doc in dataset.docs_iter():
            doc_ids.append(doc.doc_id)
            texts.append(doc.default_text())
        encode = lambda ids: {"vectors": self.scorer.encode(texts, desc="corpus")}
        return doc_ids, cached_encodings(self.context, self.encoder_identity(), doc_ids, texts, encode)["vectors"]

    def retrieve(self, dataset: Any, queries: Sequence[Any]) -> Run:
        doc_ids, vectors = self.corpus_vectors(dataset)
        texts = query_texts(queries)
        qids = list(texts)
        q = self.scorer.encode([texts[x] for x in qids], query=True, desc="queries")
        k = min(self.config.top_k, len(doc_ids))
        search = self._faiss if self.config.index == "faiss" else self._exact
        scores, indices = search(q, vectors, k)
        return {qid: {doc_ids[i]: float(s) for s, i in zip(srow, irow)}
                for qid, srow, irow in zip(qids, scores.tolist(), indices.tolist())}

    def _exact(self, q: Any, vectors: Any, k: int, chunk: int = 256) -> tuple[Any, Any]:
        import torch

        parts = [torch.topk(self.scorer.score_matrix(q[i:i + chunk], vectors), k, dim=1)
                 for i in range(0, len(q), chunk)]
        return torch.cat([p.values for p in parts]), torch.cat([p.indices for p in parts])

    def _faiss(self, q: Any, vectors: Any, k: int) -> tuple[Any, Any]:
        try:
            import faiss
        except ImportError:
            raise ConfigError("retriever=dense: index=faiss needs the package faiss-cpu "
                              "(pip install faiss-cpu), or use index=exact") from None
        import torch.nn.functional as F

        if self.config.similarity == "cosine":
            q, vectors = F.normalize(q, dim=-1), F.normalize(vectors, dim=-1)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors.numpy())
        scores, indices = index.search(q.numpy(), k)
        return scores, indices


@hookimpl
def harness_add_retrievers():
    return {"dense": DenseRetriever}
