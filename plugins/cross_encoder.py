"""``reranker=cross_encoder``: each query-passage pair through one encoder, one score per pair.

From the packaged MiniLM the scoring head is untrained (seeded) until the PEFT
stage trains it: the figures of an untrained head are near random; the
plumbing, batching and scoring are the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from harness.components import Reranker, Run, option
from harness.hookspecs import hookimpl
from harness.neural.component import NeuralComponent, NeuralRerankerConfig
from harness.neural.rerank import candidates, passage_texts, query_texts, rebuild


@dataclass
class CrossEncoderConfig(NeuralRerankerConfig):
    max_length: int = option(512, "tokens of query + passage kept (the passage is truncated)")


class CrossEncoderReranker(NeuralComponent, Reranker):
    Config = CrossEncoderConfig

    def build_scorer(self, **common: Any) -> Any:
        from harness.neural.cross_encoder import CrossEncoder

        return CrossEncoder(max_length=self.config.max_length, **common)

    def rerank(self, dataset: Any, queries: Sequence[Any], run: Run) -> Run:
        texts = query_texts(queries)
        cands = {qid: docs for qid, docs in candidates(run, self.config.top_k).items() if qid in texts}
        passages = passage_texts(dataset, sorted({d for docs in cands.values() for d in docs}),
                                 self.context.dataset_id)
        pairs = [(qid, d) for qid, docs in cands.items() for d in docs]
        scores = self.scorer.predict([texts[q] for q, _ in pairs], [passages[d] for _, d in pairs])
        reranked: dict[str, dict[str, float]] = {}
        for (qid, d), s in zip(pairs, scores):
            reranked.setdefault(qid, {})[d] = s
        return rebuild(run, reranked)


@hookimpl
def harness_add_rerankers():
    return {"cross_encoder": CrossEncoderReranker}
