"""One ranking rule (score descending, ties by doc id descending, as trec_eval) everywhere."""

from __future__ import annotations

import random

import pytest
import pytrec_eval

from harness.errors import DataError
from harness.evaluation import evaluate
from harness.reports.leaderboard import Entry, TestOptions, build_leaderboard
from harness.models.rerank import candidates, rebuild
from harness.ranking import rank_scores, ranked
from harness.data.trec_io import read_run, write_run


def tied_case(seed: int):
    """Runs where most scores tie (one decimal) and relevant documents sit inside the ties."""
    rng = random.Random(seed)
    qrels, run = {}, {}
    for q in range(15):
        docs = [f"d{i:03d}" for i in range(60)]
        qrels[f"q{q}"] = {d: rng.choice([0, 1, 2, 3]) for d in rng.sample(docs, 25)}
        run[f"q{q}"] = {d: float(rng.randint(0, 4)) for d in rng.sample(docs, 40)}
    return qrels, run


def test_the_rule():
    assert ranked({"a": 1.0, "c": 1.0, "b": 2.0}) == [("b", 2.0), ("c", 1.0), ("a", 1.0)]
    assert rank_scores({"a": 1.0, "c": 1.0, "b": 2.0}) == {"b": 3.0, "c": 2.0, "a": 1.0}


@pytest.mark.parametrize("seed", [0, 1])
def test_ties_are_ranked_as_trec_eval_ranks_them(seed):
    qrels, run = tied_case(seed)
    ours = evaluate(qrels, run, ["ndcg@10", "map", "recall@10"], binary_relevance_level=2)
    theirs = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "map", "recall.10"}, relevance_level=2).evaluate(run)
    for metric, name in (("ndcg@10", "ndcg_cut_10"), ("map", "map"), ("recall@10", "recall_10")):
        for qid in qrels:
            assert ours.per_query[metric][qid] == pytest.approx(theirs[qid][name], abs=1e-12), (metric, qid)


def test_insertion_order_does_not_change_a_figure():
    qrels, run = tied_case(2)
    backwards = {q: dict(reversed(list(docs.items()))) for q, docs in reversed(list(run.items()))}
    metrics = ["ndcg@10", "mrr@10", "map"]
    assert evaluate(qrels, run, metrics, 2).mean == evaluate(qrels, backwards, metrics, 2).mean


def test_a_run_read_back_gives_the_same_figures_exactly(tmp_path):
    qrels, run = tied_case(3)
    run = {q: {d: s + random.Random(d).random() * 1e-9 for d, s in docs.items()} for q, docs in run.items()}
    write_run(run, tmp_path / "run.trec")
    metrics = ["ndcg@10", "mrr@10", "recall@100", "map"]
    assert evaluate(qrels, read_run(tmp_path / "run.trec"), metrics, 2).mean == evaluate(qrels, run, metrics, 2).mean


def test_non_finite_scores_are_refused_by_evaluation():
    with pytest.raises(DataError, match="cannot evaluate the run: score nan of document 'd' for query 'q'"):
        evaluate({"q": {"d": 1}}, {"q": {"d": float("nan")}}, ["ndcg@10"])


def test_nothing_retrieved_scores_zero():
    result = evaluate({"q1": {"d": 1}, "q2": {"e": 2}}, {"q1": {}}, ["ndcg@10", "map"])
    assert result.mean == {"ndcg@10": 0.0, "map": 0.0} and result.per_query["map"] == {"q1": 0.0, "q2": 0.0}


def test_reranker_candidates_and_rebuild_use_the_rule():
    run = {"q": {"a": 1.0, "b": 1.0, "c": 1.0, "z": 5.0}}
    assert candidates(run, 2) == {"q": ["z", "c"]}  # the tie at the cut: doc id descending
    rebuilt = rebuild(run, {"q": {"z": 0.1, "c": 0.9}})
    assert [d for d, _ in ranked(rebuilt["q"])] == ["c", "z", "b", "a"]  # the tail keeps the rule's order


def test_leaderboard_ties_follow_the_rule():
    same = {"ndcg@10": {"q1": 0.5, "q2": 0.5}}
    entries = [Entry(name=n, source="t", dataset="d", mean={"ndcg@10": 0.5}, per_query=same) for n in "abc"]
    board = build_leaderboard(entries, "ndcg@10", options=TestOptions(tests=("student",)))
    assert [e.name for e in board.entries] == ["c", "b", "a"]


def test_leaderboard_keeps_entries_of_one_name_apart():
    per_query = {"ndcg@10": {"q1": 0.5, "q2": 0.25}}
    entries = [Entry(name="x", source="s", dataset="d", mean={"ndcg@10": v}, per_query=per_query) for v in (0.1, 0.2)]
    board = build_leaderboard(entries, "ndcg@10", options=TestOptions(tests=("student",)))
    assert [e.name for e in board.entries] == ["x [s] #2", "x [s] #1"]
