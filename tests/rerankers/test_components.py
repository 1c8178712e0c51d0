"""The reranker and dense retriever components: reranked runs, caching of runs and encodings, configs."""

import pytest

from harness import stages
from harness.registry import ComponentRegistry


def build(context, kind, name, **options):
    from harness.plugin_manager import get_plugin_manager

    return ComponentRegistry(get_plugin_manager()).create(kind, {"name": name, **options}, context)


@pytest.mark.parametrize("name", ["bi_encoder", "cross_encoder", "late_interaction"])
def test_rerank_keeps_every_document_and_ranks_top_k_first(name, tiny, tiny_model, context, dataset):
    reranker = build(context, "reranker", name, model=tiny_model, top_k=2)
    run = reranker.rerank(dataset, tiny.queries, tiny.run)
    assert {q: set(d) for q, d in run.items()} == {q: set(d) for q, d in tiny.run.items()}
    for qid, docs in run.items():
        order = sorted(docs, key=docs.get, reverse=True)
        assert set(order[:2]) == set(sorted(tiny.run[qid], key=tiny.run[qid].get, reverse=True)[:2])
        assert order[2:] == [d for d in sorted(tiny.run[qid], key=tiny.run[qid].get, reverse=True)[2:]]
    assert reranker.rerank(dataset, tiny.queries, tiny.run) == run  # deterministic


def test_one_query_alone_scores_as_in_the_batch(tiny, tiny_model, context, dataset):
    reranker = build(context, "reranker", "cross_encoder", model=tiny_model, batch_size=3)
    both = reranker.rerank(dataset, tiny.queries, tiny.run)
    alone = reranker.rerank(dataset, tiny.queries[:1], {"q1": tiny.run["q1"]})
    assert alone["q1"] == pytest.approx(both["q1"], abs=1e-5)


def test_second_run_is_served_from_the_stage_cache(tiny, tiny_model, context, dataset, monkeypatch):
    reranker = build(context, "reranker", "late_interaction", model=tiny_model)
    first, _ = stages.second_stage(reranker, dataset, tiny.queries, tiny.run, upstream="x")
    again = build(context, "reranker", "late_interaction", model=tiny_model)
    monkeypatch.setattr(type(again), "rerank", lambda *a: pytest.fail("recomputed a cached stage"))
    second, _ = stages.second_stage(again, dataset, tiny.queries, tiny.run, upstream="x")
    assert second == first and again._scorer is None  # not even the model was loaded
    assert context.cache.stats["rerank.hit"] == 1 and context.cache.stats["encodings.miss"] == 1


def test_encodings_are_shared_across_configs_of_one_encoder(tiny, tiny_model, context, dataset, monkeypatch):
    cosine = build(context, "reranker", "bi_encoder", model=tiny_model)
    cosine.rerank(dataset, tiny.queries, tiny.run)
    dot = build(context, "reranker", "bi_encoder", model=tiny_model, similarity="dot")
    calls = []
    original = type(dot.scorer).encode
    monkeypatch.setattr(
        type(dot.scorer), "encode", lambda self, texts, **kw: calls.append(len(texts)) or original(self, texts, **kw)
    )
    dot.rerank(dataset, tiny.queries, tiny.run)
    assert context.cache.stats["encodings.hit"] == 1 and context.cache.stats["encodings.miss"] == 1
    assert calls == [len(tiny.queries)]  # only the queries were encoded


def test_dense_retriever_finds_the_passage_itself(tiny, tiny_model, context, dataset):
    retriever = build(context, "retriever", "dense", model=tiny_model, top_k=3)
    queries = [tiny.Query(d, text) for d, text in tiny.passages.items()]
    run = retriever.retrieve(dataset, queries)
    assert all(len(docs) == 3 for docs in run.values())
    assert all(max(docs, key=docs.get) == qid for qid, docs in run.items())  # cosine 1 with itself
    retriever.retrieve(dataset, queries)
    assert context.cache.stats["corpus-shards.hit"] == 1


def test_missing_passages_are_named(tiny, tiny_model, context, dataset):
    from harness.errors import DataError

    reranker = build(context, "reranker", "bi_encoder", model=tiny_model)
    with pytest.raises(DataError, match="not in its corpus"):
        reranker.rerank(dataset, tiny.queries, {"q1": {"nope": 1.0}})


@pytest.mark.parametrize(
    "overrides",
    [
        ["reranker=bi_encoder"],
        ["reranker=cross_encoder", "reranker.max_length=128"],
        ["reranker=late_interaction", "reranker.dim=null"],
        ["retriever=dense", "retriever.index=exact"],
        ["retriever=dense", "reranker=late_interaction", "reranker.top_k=10"],
    ],
)
def test_configs_compose_and_build(overrides, context):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from harness.config import conf_dir, register_schema

    register_schema()
    with initialize_config_dir(str(conf_dir()), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config", overrides=overrides), resolve=True)
    for group in ("retriever", "reranker"):
        if cfg.get(group):
            component = build(context, group, **cfg[group])
            assert component._scorer is None if hasattr(component, "_scorer") else True


def test_bad_option_names_the_key(context):
    from harness.errors import ConfigError

    with pytest.raises(ConfigError, match="topk"):
        build(context, "reranker", "bi_encoder", topk=5)


def test_retrained_weights_at_the_same_path_miss_the_cache(tiny, tiny_model, context, dataset, tmp_path):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    first = build(context, "reranker", "bi_encoder", model=str(folder))
    key = first.cache_payload()
    (folder / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes() + b" ")
    assert build(context, "reranker", "bi_encoder", model=str(folder)).cache_payload() != key


@pytest.mark.parametrize(
    "name,kind,key,value",
    [
        ("bi_encoder", "reranker", "pooling", "sum"),
        ("dense", "retriever", "index", "annoy"),
        ("cross_encoder", "reranker", "dtype", "int4"),
    ],
)
def test_bad_choices_fail_when_built(name, kind, key, value, context):
    from harness.errors import ConfigError

    with pytest.raises(ConfigError, match=rf"^{kind} \({kind} '{name}'\): key '{key}': '{value}' is not one of "):
        build(context, kind, name, **{key: value})


def test_encodings_are_keyed_by_content_not_dataset_id(tiny, tiny_model, context, dataset):
    from dataclasses import replace

    build(context, "retriever", "dense", model=tiny_model).retrieve(dataset, tiny.queries)
    other_subset = replace(context, dataset_id="tiny/other-queries")
    build(other_subset, "retriever", "dense", model=tiny_model).retrieve(dataset, tiny.queries)
    assert context.cache.stats["corpus-shards.hit"] == 1
    edited = type(dataset)()
    edited.docs_iter = lambda: iter(d._replace(text=d.text + "!") for d in dataset.docs_iter())
    build(context, "retriever", "dense", model=tiny_model).retrieve(edited, tiny.queries)
    assert context.cache.stats["corpus-shards.miss"] == 2  # an edited passage is encoded anew


@pytest.mark.parametrize("name", ["bi_encoder", "late_interaction"])
def test_a_trained_encoder_never_reads_the_untrained_encodings(name, tiny, tiny_model, context, dataset):
    import torch

    untrained = build(context, "reranker", name, model=tiny_model).rerank(dataset, tiny.queries, tiny.run)
    trained = build(context, "reranker", name, model=tiny_model)
    with torch.no_grad():  # what a training stage does: new weights, and a key naming them
        for p in trained.scorer.model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    trained.training_key = "adapter-1"
    assert trained.rerank(dataset, tiny.queries, tiny.run) != untrained
    assert context.cache.stats["encodings.miss"] == 2 and not context.cache.stats.get("encodings.hit")


def test_head_auto_takes_the_head_a_saved_adapter_was_trained_with(tiny_model, context):
    """``load_adapter=`` of a classifier-head adapter needs no ``reranker.head=classifier``."""
    from harness.errors import ConfigError

    classifier = {"model_class": "BertForSequenceClassification"}
    auto = build(context, "reranker", "cross_encoder", model=tiny_model)
    auto.adopt_saved_backbone(classifier, "models/x")
    assert auto.config.head == "classifier" and type(auto.scorer.model).__name__ == "BertForSequenceClassification"
    bare = build(context, "reranker", "cross_encoder", model=tiny_model)
    bare.adopt_saved_backbone({"model_class": "BertModel"}, "models/x")
    assert bare.config.head == "auto"  # auto already picks segment_cosine for this checkpoint: the cache keys stay
    explicit = build(context, "reranker", "cross_encoder", model=tiny_model, head="segment_cosine")
    with pytest.raises(ConfigError, match=r"trained with head=classifier .*reranker.head=segment_cosine"):
        explicit.adopt_saved_backbone(classifier, "models/x")
