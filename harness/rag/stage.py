"""The RAG stage: ranking -> noisy context of k passages -> generator -> judged answers.

Runs after retrieval (and reranking) when a ``generator`` is configured. The
contexts and the answers are two cached stages; the answers are written per
question, with their context ids and verdicts, to ``answers.jsonl`` in the
run folder, and the RAG rates join the run's metrics.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

from harness.rag import groundedness
from harness.rag import metrics as rag_metrics
from harness.cache import stable_hash
from harness.config import implied
from harness.components import AbstainingConfig, Generator, NoiseInjector, Qrels, RatioConfig, Run, check_contract, shard_size
from harness.outputs import write_text_atomic
from harness.scale.shards import query_shards
from harness.stages import stage_payload
from harness.data.trec_io import ranked

logger = logging.getLogger(__name__)


class NoisyConfig(Protocol):
    """A noise injector that draws noise from the candidates has a noise ratio."""

    config: RatioConfig


@dataclass
class RagStage:
    generator: Generator
    noise: NoiseInjector
    info: dict[str, Any] = field(default_factory=dict)  # for the run's info: realised context sizes, coverage

    @classmethod
    def from_config(cls, config: Mapping[str, Any], registry, context, choices: Mapping[str, str]) -> "RagStage":
        generator = registry.create(
            "generator",
            config["generator"],
            context,
            where=f"generator={choices.get('generator', config['generator'].get('name'))}",
        )
        noise_cfg = config.get("noise") or implied("noise")  # no noise group: the end-to-end setting
        noise = registry.create("noise", noise_cfg, context, where=f"noise={noise_cfg.get('name')}")
        if not noise.raw_candidates:  # its rate at ratio 1 is the rejection rate
            check_contract(noise, NoisyConfig, "the noise of a RAG run (it does not take raw candidates)")
        return cls(generator, noise)

    def run(
        self, dataset: Any, queries: Sequence[Any], qrels: Qrels, run: Run, upstream: str, run_dir: Path, level: int
    ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
        """Mean RAG metrics and per-query values; writes ``answers.jsonl`` into ``run_dir``."""
        gold = {q.query_id: gold_ids(q, qrels.get(q.query_id, {}), level) for q in queries}
        contexts, key = self.contexts(dataset, queries, qrels, run, gold, upstream)
        texts = passage_texts(dataset, {d for ids in contexts.values() for d in ids})
        answers = self.answers(dataset, queries, contexts, texts, key)
        rows = judge_all(queries, contexts, answers, gold, qrels, level, self.abstain_phrases(), texts)
        run_dir.mkdir(parents=True, exist_ok=True)
        # Atomic, and it replaces (never follows) a link planted at that name inside the run folder.
        write_text_atomic(run_dir / "answers.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
        self.info = run_info(rows, self.noise)
        return summarise(rows, self.noise)

    def contexts(self, dataset, queries, qrels, run, gold, upstream) -> tuple[dict[str, list[str]], str]:
        noise = self.noise
        payload = stage_payload(noise, dataset, queries, upstream)

        def build():
            if noise.needs_corpus:
                noise.prepare([doc.doc_id for doc in dataset.docs_iter()])
            out = {}
            for q in queries:
                ranking = [doc for doc, _ in ranked(run.get(q.query_id, {}))]
                if not noise.raw_candidates:  # never use a judged-relevant passage as noise
                    positive = {d for d, rel in qrels.get(q.query_id, {}).items() if rel > 0}
                    ranking = [d for d in ranking if d not in positive]
                out[q.query_id] = noise.inject(q, gold[q.query_id], ranking)
            return out

        return noise.context.cache.json("contexts", payload, build), stable_hash(payload)

    def answers(self, dataset, queries, contexts, texts, upstream) -> dict[str, str]:
        """The answers, in shards of questions (``generator.shard_size``), each its own cache entry."""
        generator = self.generator
        payload = stage_payload(generator, dataset, queries, upstream)
        by_id = {q.query_id: q for q in queries}

        def build(qids: list[str]) -> dict[str, str]:
            part = [by_id[q] for q in qids]
            questions = [q.text for q in part]
            passages = [[texts[d] for d in contexts[q.query_id]] for q in part]
            return dict(zip(qids, generator.generate(questions, passages)))

        ids = [q.query_id for q in queries]
        context = generator.context
        return query_shards(
            context.cache, "generate", payload, ids, shard_size(generator), build, "generate", context.show_progress
        )

    def abstain_phrases(self) -> tuple[str, ...]:
        config = self.generator.config
        own = config.abstain_answer if isinstance(config, AbstainingConfig) else None
        return rag_metrics.ABSTAIN_PHRASES + ((own,) if own else ())


def gold_ids(query: Any, judged: Mapping[str, int], level: int) -> list[str]:
    """A QA query's own gold passages, else its passages judged at or above ``level``."""
    own = getattr(query, "gold_doc_ids", None)
    if own is not None:
        return list(own)
    return [d for d, rel in sorted(judged.items(), key=lambda x: (-x[1], x[0])) if rel >= level]


def passage_texts(dataset: Any, doc_ids: set[str]) -> dict[str, str]:
    found = dataset.docs_store().get_many(sorted(doc_ids))
    return {d: doc.default_text() for d, doc in found.items()}


def judge_all(queries, contexts, answers, gold, qrels, level, phrases, texts) -> list[dict[str, Any]]:
    rows = []
    for q in queries:
        ids = contexts[q.query_id]
        judged = qrels.get(q.query_id, {})
        golds = set(gold[q.query_id])
        relevant = [d for d in ids if judged.get(d, 0) >= level or d in golds]
        answer = answers[q.query_id]
        row = {
            "query_id": q.query_id,
            "question": q.text,
            "answer": answer,
            "context_ids": ids,
            "gold_ids": sorted(golds),
            "context_precision": len(relevant) / max(1, len(ids)),
            "noise_share": sum(d not in golds for d in ids) / max(1, len(ids)),
            "grounding": groundedness.ground(
                answer, q.text, [texts[d] for d in relevant], [texts[d] for d in ids if d not in relevant], phrases=phrases
            ),
        }
        if getattr(q, "answers", None):
            row["gold_answers"] = list(q.answers)
            row["verdict"] = rag_metrics.judge(answers[q.query_id], q.answers, phrases)
        if getattr(q, "counterfactual_answers", None):
            row.update(counterfactual_judgement(q, ids, answer))
        rows.append(row)
    return rows


def counterfactual_judgement(query: Any, ids: Sequence[str], answer: str) -> dict[str, Any]:
    """The counterfactual fields of a question's row: its false answers, adoption, error detection, cf share."""
    own = set(getattr(query, "counterfactual_doc_ids", ()) or ())
    return {
        "counterfactual_answers": list(query.counterfactual_answers),
        "adopted": rag_metrics.adopts_counterfactual(answer, query.counterfactual_answers),
        "error_detected": rag_metrics.detects_error(answer),
        "counterfactual_share": sum(d in own for d in ids) / max(1, len(ids)),
    }


def counterfactual_rates(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per-question counterfactual measures over the rows of questions that have counterfactual answers."""
    if not rows:
        return {}
    values = {
        "rag_counterfactual_adoption": lambda r: r["adopted"],
        "rag_error_detection": lambda r: r["error_detected"],
        "rag_error_correction": lambda r: r["error_detected"] and r.get("verdict") == "correct",
        "rag_counterfactual_accuracy": lambda r: r.get("verdict") == "correct",
        "rag_counterfactual_share": lambda r: r["counterfactual_share"],
    }
    return {name: {r["query_id"]: float(value(r)) for r in rows} for name, value in values.items()}


def context_sizes(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The realised context sizes (fewer than k where a question has fewer gold passages than its share)."""
    sizes = [len(r["context_ids"]) for r in rows]
    return {"min": min(sizes), "max": max(sizes), "mean": sum(sizes) / len(sizes)} if sizes else {}


def run_info(rows: list[dict[str, Any]], noise) -> dict[str, Any]:
    """What the run's info records of the RAG stage: k, the realised context sizes, counterfactual coverage."""
    k = getattr(noise.config, "k", None)
    sizes = context_sizes(rows)
    short = sum(len(r["context_ids"]) < k for r in rows) if k else 0
    if short:
        logger.info(
            "RAG: %d of %d contexts hold fewer than k=%d passages (sizes %d-%d): fewer gold passages "
            "than gold slots, and noise fills only the ceil(k*rho) noise slots (docs/rag.md)",
            short,
            len(rows),
            k,
            sizes["min"],
            sizes["max"],
        )
    return {"k": k, "context_size": sizes, "short_contexts": short, "counterfactual_questions": sum("adopted" in r for r in rows)}


def summarise(rows: list[dict[str, Any]], noise) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    per_query = {
        "rag_context_precision": {r["query_id"]: r["context_precision"] for r in rows},
        "rag_noise_share": {r["query_id"]: r["noise_share"] for r in rows},
    }
    for name, label in (("grounded", "grounded"), ("noise_supported", "noise"), ("unsupported", "unsupported")):
        per_query[f"rag_{name}"] = {r["query_id"]: float(r["grounding"] == label) for r in rows}
    judged = [r for r in rows if "verdict" in r]
    if judged:
        for name, verdict in (("accuracy", "correct"), ("abstention", "abstain"), ("hallucination", "hallucinated")):
            per_query[f"rag_{name}"] = {r["query_id"]: float(r["verdict"] == verdict) for r in judged}
    per_query["rag_context_size"] = {r["query_id"]: float(len(r["context_ids"])) for r in rows}
    covered = [r for r in rows if "adopted" in r]
    per_query.update(counterfactual_rates(covered))
    mean = {name: sum(values.values()) / len(values) for name, values in per_query.items()}
    if covered:
        mean["rag_counterfactual_questions"] = float(len(covered))
    if judged and not noise.raw_candidates and noise.config.ratio >= 1.0:
        mean["rag_rejection"] = mean["rag_abstention"]  # rho = 1: no passage holds the answer
    logger.info("RAG: %s", ", ".join(f"{k}={v:.4f}" for k, v in mean.items()))
    return mean, per_query
