"""Training examples from graded judgments: positives, negatives, splits, determinism."""

import random
from types import SimpleNamespace

import pytest

from harness.errors import DataError
from harness.training.data import build_examples, listwise_groups, pointwise_pairs, split_by_query

QUERIES = [SimpleNamespace(query_id=f"q{i}", text=f"query {i}") for i in range(10)]
QRELS = {f"q{i}": {f"p{i}": 3, f"r{i}": 2, f"m{i}": 1, f"z{i}": 0} for i in range(9)}  # q9 unjudged
RUN = {f"q{i}": {f"p{i}": 9.0, f"b{i}": 8.0, f"m{i}": 7.0, f"z{i}": 6.0, f"c{i}": 5.0} for i in range(10)}


def test_positives_and_negatives_follow_the_protocol():
    examples = build_examples(QUERIES, QRELS, RUN)
    assert [e.query_id for e in examples] == [f"q{i}" for i in range(9)]
    first = examples[0]
    assert first.positives == [("p0", 3), ("r0", 2)]  # rel >= 2 only, best first
    assert first.negatives == ["z0", "b0", "c0"]  # judged 0, then BM25 non-relevant, no rel-1 doc
    assert not set(first.negatives) & {d for d, _ in first.positives}


def test_split_is_by_query_disjoint_and_seeded():
    examples = build_examples(QUERIES, QRELS, RUN)
    a, b = split_by_query(examples, 0.25, seed=7), split_by_query(examples, 0.25, seed=7)
    assert [e.query_id for e in a.validation] == [e.query_id for e in b.validation]
    assert len(a.validation) == 2 and len(a.train) == 7
    assert not {e.query_id for e in a.train} & {e.query_id for e in a.validation}
    assert [e.query_id for e in split_by_query(examples, 0.25, seed=8).validation] != [e.query_id for e in a.validation]


def test_groups_and_pairs():
    examples = build_examples(QUERIES, QRELS, RUN)
    groups = listwise_groups(examples, n_negatives=2, rng=random.Random(0))
    assert len(groups) == 18 and all(len(neg) == 2 and pos not in neg for _, pos, neg in groups)
    pairs = pointwise_pairs(examples[:1], QRELS, n_negatives=5, rng=random.Random(0))
    labels = {doc: label for _, doc, label in pairs}
    assert labels == {"p0": 1.0, "r0": pytest.approx(2 / 3), "m0": pytest.approx(1 / 3), "z0": 0.0, "b0": 0.0, "c0": 0.0}


def test_errors():
    with pytest.raises(DataError, match="rel >= 2"):
        build_examples(QUERIES, {"q0": {"x": 1}}, RUN)
    with pytest.raises(DataError, match="leaves no training query"):
        split_by_query(build_examples(QUERIES[:1], QRELS, RUN), 0.5, seed=0)
