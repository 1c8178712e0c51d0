"""Training examples from graded judgments (the default protocol: train on DL19, test on DL20).

Positives are judged rel >= ``min_positive``; negatives are judged-0 passages
and first-stage (BM25 top-100) passages not judged relevant. Queries are split
into train and validation by a seeded shuffle, so early stopping never sees a
training query.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Sequence

from harness.errors import DataError


@dataclass
class Example:
    query_id: str
    query: str
    positives: list[tuple[str, int]]  # (doc_id, grade)
    negatives: list[str] = field(default_factory=list)


@dataclass
class Split:
    train: list[Example]
    validation: list[Example]


def build_examples(
    queries: Sequence[Any], qrels: dict[str, dict[str, int]], first_stage: dict[str, dict[str, float]], min_positive: int = 2
) -> list[Example]:
    examples = []
    for query in queries:
        judged = qrels.get(query.query_id, {})
        positives = sorted(((d, g) for d, g in judged.items() if g >= min_positive), key=lambda x: (-x[1], x[0]))
        if not positives:
            continue
        judged_zero = sorted(d for d, g in judged.items() if g <= 0)
        retrieved = sorted(first_stage.get(query.query_id, {}), key=lambda d: -first_stage[query.query_id][d])
        hard = [d for d in retrieved if judged.get(d, 0) <= 0 and d not in judged_zero]
        examples.append(Example(query.query_id, query.text, positives, judged_zero + hard))
    if not examples:
        raise DataError(f"no training query has a passage judged rel >= {min_positive}")
    return examples


def split_by_query(examples: list[Example], validation_fraction: float, seed: int) -> Split:
    order = sorted(examples, key=lambda e: e.query_id)
    random.Random(seed).shuffle(order)
    n_val = int(round(len(order) * validation_fraction))
    if validation_fraction > 0 and n_val == 0:
        n_val = 1
    if n_val >= len(order):
        raise DataError(f"validation_fraction={validation_fraction} leaves no training query of {len(order)}")
    return Split(train=order[n_val:], validation=order[:n_val])


def listwise_groups(examples: list[Example], n_negatives: int, rng: random.Random) -> list[tuple[str, str, list[str]]]:
    """One (query, positive, negatives) group per positive, negatives sampled without replacement."""
    groups = []
    for example in examples:
        for doc_id, _ in example.positives:
            pool = example.negatives
            negatives = rng.sample(pool, min(n_negatives, len(pool))) if pool else []
            groups.append((example.query, doc_id, negatives))
    rng.shuffle(groups)
    return groups


def pointwise_pairs(
    examples: list[Example], qrels: dict[str, dict[str, int]], n_negatives: int, rng: random.Random, max_grade: int = 3
) -> list[tuple[str, str, float]]:
    """(query, doc, label in [0, 1]) pairs: every judged passage with its grade, plus sampled negatives."""
    pairs = []
    for example in examples:
        for doc_id, grade in qrels.get(example.query_id, {}).items():
            pairs.append((example.query, doc_id, max(0, grade) / max_grade))
        judged = qrels.get(example.query_id, {})
        extra = [d for d in example.negatives if d not in judged]
        for doc_id in rng.sample(extra, min(n_negatives, len(extra))):
            pairs.append((example.query, doc_id, 0.0))
    rng.shuffle(pairs)
    return pairs
