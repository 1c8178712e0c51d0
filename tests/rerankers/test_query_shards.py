"""Reranking and generation in shards of queries: each shard its own cache entry, a killed run resumed."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import stages
from harness.cache import StageCache
from harness.components import Context, Generator, option
from harness.rag.stage import RagStage
from harness.registry import ComponentRegistry

from .conftest import QUERIES, RUN, Query

# Three queries: shard_size=1 gives three shards.
THREE = [*QUERIES, Query("q3", "what is the powerhouse of the cell")]
THREE_RUN = {**RUN, "q3": {"d5": 2.0, "d1": 1.0, "d2": 0.5, "d4": 0.2}}


def fresh(tmp_path: Path, name: str) -> Context:
    return Context(
        cache=StageCache(tmp_path / name), dataset_id="tiny", data_root=str(tmp_path), device="cpu", seed=0, show_progress=False
    )


def build(context, name="cross_encoder", **options):
    from harness.plugin_manager import get_plugin_manager

    return ComponentRegistry(get_plugin_manager()).create("reranker", {"name": name, **options}, context)


def rerank(reranker, dataset):
    return stages.second_stage(reranker, dataset, THREE, {q: dict(d) for q, d in THREE_RUN.items()}, upstream="first")


def entries(context: Context, stage: str) -> list[dict]:
    payloads = [json.loads((f / "cache-key.json").read_text())["payload"] for f in (context.cache.root / stage).iterdir()]
    return sorted(payloads, key=lambda p: p.get("shard", []))


def count_scoring(reranker, monkeypatch, fail_at=None):
    """Patch the reranker's scorer: count its calls (one per shard scored), raise at call ``fail_at``."""
    scorer = reranker.scorer
    original = scorer.predict
    calls = []

    def predict(queries, passages, **kw):
        if fail_at is not None and len(calls) == fail_at:
            raise RuntimeError("killed mid-reranking")
        calls.append(sorted(set(queries)))
        return original(queries, passages, **kw)

    monkeypatch.setattr(scorer, "predict", predict)
    return calls


@pytest.mark.parametrize("name", ["bi_encoder", "cross_encoder", "late_interaction"])
def test_sharded_reranking_equals_the_unsharded_run(name, tiny_model, tmp_path, dataset):
    # batch_size=1: the same forward passes either way. Length-sorted batches of other
    # members pad differently, which moves scores by fp rounding only (the next test).
    whole, whole_key = rerank(build(fresh(tmp_path, "whole"), name, model=tiny_model, top_k=3, batch_size=1), dataset)
    context = fresh(tmp_path, "sharded")
    sharded, sharded_key = rerank(build(context, name, model=tiny_model, top_k=3, batch_size=1, shard_size=1), dataset)
    assert sharded == whole and list(sharded) == list(whole)  # exactly: same scores, same query order
    assert sharded_key == whole_key  # shards split the work; the stage's key is the whole stage's
    assert [p["shard"] for p in entries(context, "rerank")] == [[0, 3], [1, 3], [2, 3]]
    assert context.cache.stats["rerank.miss"] == 3


def test_shards_batched_otherwise_move_scores_by_rounding_only(tiny_model, tmp_path, dataset):
    whole, _ = rerank(build(fresh(tmp_path, "whole"), model=tiny_model, top_k=3), dataset)
    sharded, _ = rerank(build(fresh(tmp_path, "sharded"), model=tiny_model, top_k=3, shard_size=1), dataset)
    assert list(sharded) == list(whole)
    for qid, docs in whole.items():
        assert list(sharded[qid]) == list(docs) and sharded[qid] == pytest.approx(docs, abs=1e-5)


def test_a_killed_reranking_resumes_at_the_first_missing_shard(tiny_model, tmp_path, dataset, monkeypatch):
    expected, _ = rerank(build(fresh(tmp_path, "uninterrupted"), model=tiny_model, top_k=3, shard_size=1), dataset)

    context = fresh(tmp_path, "killed")
    killed = build(context, model=tiny_model, top_k=3, shard_size=1)
    calls = count_scoring(killed, monkeypatch, fail_at=1)
    with pytest.raises(RuntimeError, match="killed"):
        rerank(killed, dataset)
    assert len(calls) == 1 and [p["shard"] for p in entries(context, "rerank")] == [[0, 3]]

    rerun = build(context, model=tiny_model, top_k=3, shard_size=1)
    calls = count_scoring(rerun, monkeypatch)
    assert rerank(rerun, dataset)[0] == expected
    assert calls == [["what does photosynthesis make"], ["what is the powerhouse of the cell"]]  # only shards 2 and 3
    assert context.cache.stats["rerank.hit"] == 1 and context.cache.stats["rerank.miss"] == 4


def test_one_shard_keeps_the_stage_key_of_a_run_before_shards(tiny_model, tmp_path, dataset):
    context = fresh(tmp_path, "one")
    reranker = build(context, model=tiny_model, top_k=3)  # default shard_size: 3 queries are one shard
    _, key = rerank(reranker, dataset)
    (payload,) = entries(context, "rerank")
    assert "shard" not in payload and "shard_size" not in payload["config"]
    assert payload == stages.stage_payload(reranker, dataset, THREE, upstream="first")
    assert (context.cache.root / "rerank" / context.cache.key("rerank", payload)).is_dir()
    # another shard size is the same stage: served from the same entry
    again, again_key = rerank(build(context, model=tiny_model, top_k=3, shard_size=5), dataset)
    assert again_key == key and context.cache.stats["rerank.hit"] == 1


def test_shards_of_equal_position_and_count_but_other_queries_are_other_entries(tiny_model, tmp_path, dataset):
    context = fresh(tmp_path, "positions")
    run = {**THREE_RUN, "q4": {"d1": 1.0}, "q5": {"d2": 1.0}}
    queries = [*THREE, Query("q4", "paris"), Query("q5", "sugar")]
    for size in (3, 4):  # 5 queries: two shards either way, with different queries in each
        reranker = build(context, model=tiny_model, top_k=3, shard_size=size)
        stages.second_stage(reranker, dataset, queries, {q: dict(d) for q, d in run.items()}, upstream="first")
    assert context.cache.stats["rerank.miss"] == 4 and context.cache.stats["rerank.hit"] == 0


class Counting(Generator):
    """Answers each question with its first passage's first word; counts its calls."""

    calls: list = []

    @dataclass
    class Config:
        shard_size: int = option(1000, "questions per generation shard", ge=1)

    def generate(self, questions, contexts):
        Counting.calls.append(list(questions))
        if getattr(self, "fail_at", None) == len(Counting.calls):
            raise RuntimeError("killed mid-generation")
        return [f"{q}: {c[0].split()[0] if c else '-'}" for q, c in zip(questions, contexts)]


def answers(context, dataset, shard_size=1000, fail_at=None):
    generator = Counting(Counting.Config(shard_size=shard_size), context)
    generator.fail_at = fail_at
    contexts = {"q1": ["d1", "d3"], "q2": ["d2"], "q3": ["d5", "d4"]}
    texts = {d: d.upper() + " text" for d in ("d1", "d2", "d3", "d4", "d5")}
    return RagStage(generator, noise=None).answers(dataset, THREE, contexts, texts, upstream="ranked")  # type: ignore[arg-type]


def test_generation_in_shards_equals_and_resumes_the_whole(tmp_path, dataset):
    Counting.calls = []
    whole = answers(fresh(tmp_path, "whole"), dataset)
    assert Counting.calls == [[q.text for q in THREE]]

    context = fresh(tmp_path, "sharded")
    Counting.calls = []
    with pytest.raises(RuntimeError, match="killed"):
        answers(context, dataset, shard_size=2, fail_at=2)
    assert [p["shard"] for p in entries(context, "generate")] == [[0, 2]]
    Counting.calls = []
    resumed = answers(context, dataset, shard_size=2)
    assert resumed == whole and list(resumed) == list(whole)
    assert Counting.calls == [[THREE[2].text]]  # only the missing shard
