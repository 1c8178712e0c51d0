"""``reranker=cross_encoder``: each query-passage pair through one encoder, one score per pair.

``head=auto`` picks one of two heads by the checkpoint. ``head=classifier`` is the usual
one-logit head: from the packaged MiniLM it is untrained (seeded) until the PEFT stage trains it, and scores near chance.
``head=segment_cosine`` scores the joint encoding with the cosine of the query
and passage segments' mean states: no new weights, so it starts from what the
sentence-embedding checkpoint knows (see harness/models/cross_encoder.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Sequence

from harness.components import Reranker, Run, option
from harness.errors import ConfigError
from harness.hookspecs import hookimpl
from harness.models.component import MIN_TEXT_TOKENS, NeuralComponent, NeuralRerankerConfig
from harness.models.rerank import int8_change, rebuild, rerank_inputs

logger = logging.getLogger(__name__)


@dataclass
class CrossEncoderConfig(NeuralRerankerConfig):
    # A pair needs [CLS] q [SEP] p [SEP]: one more special token than a single text, and a passage token.
    max_length: int = option(512, "tokens of query + passage kept (the passage is truncated)", ge=MIN_TEXT_TOKENS + 2)
    head: str = option(
        "auto",
        "auto (classifier for a trained cross-encoder checkpoint, else segment_cosine), "
        "classifier (one-logit head) or segment_cosine (no new weights)",
        choices=("auto", "classifier", "segment_cosine"),
    )
    scale: float = option(20.0, "segment_cosine: scores are scale * cosine (a softmax temperature in training)", gt=0)


class CrossEncoderReranker(NeuralComponent, Reranker):
    Config = CrossEncoderConfig

    scorer_fields = ("max_length", "head", "scale")

    def build_scorer(self, **common: Any) -> Any:
        from harness.models.cross_encoder import CrossEncoder

        return CrossEncoder(**self.scorer_options(), **common)

    def adopt_saved_backbone(self, backbone: dict[str, Any], source: str) -> None:
        # The head is part of the architecture the adapter was trained on: a one-logit classifier
        # is saved as a *ForSequenceClassification backbone, segment_cosine as the bare encoder.
        trained = "classifier" if str(backbone.get("model_class", "")).endswith("ForSequenceClassification") else "segment_cosine"
        if self.config.head == "auto":
            from harness.models.loading import is_sequence_classifier

            by_checkpoint = "classifier" if is_sequence_classifier(self.config.model) else "segment_cosine"
            if trained != by_checkpoint and self._scorer is None:
                logger.info("load_adapter=%s was trained with head=%s: reranker.head=auto uses it", source, trained)
                self.config = replace(self.config, head=trained)
        elif self.config.head != trained:
            raise ConfigError(
                f"load_adapter={source}: the adapter was trained with head={trained} "
                f"(its backbone is {backbone.get('model_class')}), but reranker.head={self.config.head}; "
                f"leave reranker.head at auto or set reranker.head={trained}"
            )

    def rerank(self, dataset: Any, queries: Sequence[Any], run: Run) -> Run:
        texts, cands, passages = rerank_inputs(self, dataset, queries, run)
        score = lambda qids: self.score(texts, {q: cands[q] for q in qids}, passages)
        reranked = score(list(cands))
        int8_change(self, reranked, score)
        return rebuild(run, reranked)

    def score(self, texts: dict[str, str], cands: dict[str, list[str]], passages: dict[str, str]) -> dict[str, dict[str, float]]:
        pairs = [(qid, d) for qid, docs in cands.items() for d in docs]
        scores = self.scorer.predict([texts[q] for q, _ in pairs], [passages[d] for _, d in pairs])
        reranked: dict[str, dict[str, float]] = {}
        for (qid, d), s in zip(pairs, scores):
            reranked.setdefault(qid, {})[d] = s
        return reranked


@hookimpl
def harness_add_rerankers():
    return {"cross_encoder": CrossEncoderReranker}
