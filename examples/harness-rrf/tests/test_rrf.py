"""The rrf reranker: the harness's contract kit, and fusion checked against hand-computed scores."""

import pytest

from harness.errors import ConfigError
from harness.testing import ComponentContract, build, compose_run_config

from harness_rrf.fusion import RRFReranker, fuse

TOY_BM25 = {"name": "bm25", "stemmer": None, "stopwords": None}


class TestRRFContract(ComponentContract):
    component = RRFReranker
    config = {"fuse": [TOY_BM25]}
    registered_as = "rrf"


def test_fusion_matches_hand_computed_scores():
    a = {"q": {"d1": 9.0, "d2": 5.0}}
    b = {"q": {"d2": 0.8, "d3": 0.5}}
    fused = fuse([a, b], {"q"}, k=60, top_k=10)
    assert fused["q"] == pytest.approx({"d2": 1 / 62 + 1 / 61, "d1": 1 / 61, "d3": 1 / 62})


def test_a_query_answered_by_one_run_only_keeps_its_ranking():
    fused = fuse([{"q": {"d1": 2.0, "d2": 1.0}}, {}], {"q"}, k=10, top_k=10)
    assert fused == {"q": pytest.approx({"d1": 1 / 11, "d2": 1 / 12})}


def test_one_run_is_not_a_fusion():
    with pytest.raises(
        ConfigError,
        match=r"^reranker=rrf: fusion needs at least two runs, got 1 "
        r"\(fuse has 1 entries, include_input=False\)$",
    ):
        build(RRFReranker, {"fuse": [TOY_BM25], "include_input": False})


def test_unknown_member_is_named():
    with pytest.raises(ConfigError, match=r"unknown retriever 'nope'; registered retrievers: .*bm25"):
        build(RRFReranker, {"fuse": [{"name": "nope"}]})


def test_shipped_config_is_found_by_hydra():
    assert compose_run_config(["reranker=rrf"])["reranker"]["fuse"] == [{"name": "bm25"}]
