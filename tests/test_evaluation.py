"""Metric values hand-computed on a tiny fixture, under the TREC DL convention."""

import math

import pytest

from harness.errors import ConfigError
from harness.evaluation import evaluate, ranx_name

QRELS = {"q1": {"d1": 3, "d2": 1, "d3": 0, "d4": 2}, "q2": {"d6": 2}, "q3": {"d7": 1}, "q4": {"d9": 3}}
RUN = {
    "q1": {"d3": 0.9, "d1": 0.8, "d2": 0.7, "d5": 0.6},
    "q2": {"d6": 1.0, "d1": 0.5},
    "q3": {"d8": 2.0, "d7": 1.0},
}  # q4 has judgments but no results: scores 0

L2 = math.log2
Q1_NDCG = (3 / L2(3) + 1 / L2(4)) / (3 + 2 / L2(3) + 1 / L2(4))
Q3_NDCG = (1 / L2(3)) / 1


def test_ndcg_uses_graded_labels():
    result = evaluate(QRELS, RUN, ["ndcg@10"], binary_relevance_level=2)
    assert result.per_query["ndcg@10"]["q1"] == pytest.approx(Q1_NDCG, abs=1e-9)
    assert result.per_query["ndcg@10"]["q2"] == pytest.approx(1.0)
    assert result.per_query["ndcg@10"]["q3"] == pytest.approx(Q3_NDCG)
    assert result.per_query["ndcg@10"]["q4"] == 0.0
    assert result.mean["ndcg@10"] == pytest.approx((Q1_NDCG + 1 + Q3_NDCG + 0) / 4)


def test_binary_measures_count_rel_2_and_up():
    result = evaluate(QRELS, RUN, ["mrr@10", "recall@100", "map"], binary_relevance_level=2)
    # q1: relevant (rel >= 2) are d1 (rank 2) and d4 (not retrieved).
    assert result.per_query["mrr@10"]["q1"] == pytest.approx(0.5)
    assert result.per_query["recall@100"]["q1"] == pytest.approx(0.5)
    assert result.per_query["map"]["q1"] == pytest.approx(0.25)
    # q3 has no rel >= 2 document: every binary measure is 0.
    assert result.per_query["map"]["q3"] == 0.0
    assert result.mean["mrr@10"] == pytest.approx((0.5 + 1 + 0 + 0) / 4)
    assert result.mean["map"] == pytest.approx((0.25 + 1 + 0 + 0) / 4)


def test_binary_level_1_counts_every_positive_grade():
    result = evaluate(QRELS, RUN, ["recall@100", "mrr@10"], binary_relevance_level=1)
    assert result.per_query["recall@100"]["q1"] == pytest.approx(2 / 3)
    assert result.per_query["mrr@10"]["q3"] == pytest.approx(0.5)


def test_cutoff_applies():
    run = {"q1": {f"x{i}": 100.0 - i for i in range(10)} | {"d1": 1.0}}
    result = evaluate({"q1": {"d1": 2}}, run, ["mrr@10", "recall@100"], binary_relevance_level=2)
    assert result.per_query["mrr@10"]["q1"] == 0.0  # d1 is 11th
    assert result.per_query["recall@100"]["q1"] == 1.0


def test_ranx_names():
    assert ranx_name("ndcg@10", 2) == "ndcg@10"
    assert ranx_name("mrr@10", 2) == "mrr@10-l2"
    assert ranx_name("map", 1) == "map"


def test_unknown_metric_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown metric"):
        evaluate(QRELS, RUN, ["ndcg@10", "nonsense@3"])
