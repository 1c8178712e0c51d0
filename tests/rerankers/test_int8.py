"""The CPU fast path (dtype=int8): scores close to fp32, the int8 model built once per weights, clear refusals."""

import logging

import pytest

from harness.errors import ConfigError
from harness.registry import ComponentRegistry

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

# Tolerances on the tiny random BERT (hidden 32, 2 layers): int8 weights per channel move a
# cosine by well under 0.05 and a segment-cosine score (scale 20) by under 1.0; a broken export
# (wrong input order, a traced constant shape) moves them by far more.
COSINE_TOL = 0.05
SCORE_TOL = 1.0


def build(context, kind, name, **options):
    from harness.plugin_manager import get_plugin_manager

    return ComponentRegistry(get_plugin_manager()).create(kind, {"name": name, **options}, context)


def test_bi_encoder_int8_vectors_are_close_to_fp32_on_any_batch_shape(tiny_model, tiny, context):
    import torch

    from harness.models.bi_encoder import BiEncoder

    texts = list(tiny.passages.values())
    fp32 = BiEncoder(tiny_model, device="cpu", batch_size=2).encode(texts)
    int8 = BiEncoder(tiny_model, device="cpu", dtype="int8", batch_size=2, cache=context.cache).encode(texts)
    cosines = torch.nn.functional.cosine_similarity(fp32, int8)
    assert cosines.min().item() > 1 - COSINE_TOL
    assert not torch.equal(fp32, int8)  # the int8 model answered, not the fp32 one


@pytest.mark.parametrize("head", ["segment_cosine", "classifier"])
def test_cross_encoder_int8_scores_are_close_to_fp32(head, tiny_model, tiny, context):
    from harness.models.cross_encoder import CrossEncoder

    queries = [tiny.queries[0].text] * len(tiny.passages)
    passages = list(tiny.passages.values())
    fp32 = CrossEncoder(tiny_model, device="cpu", head=head).predict(queries, passages)
    int8 = CrossEncoder(tiny_model, device="cpu", head=head, dtype="int8", cache=context.cache).predict(queries, passages)
    assert max(abs(a - b) for a, b in zip(fp32, int8)) < SCORE_TOL
    assert fp32 != int8


def test_int8_model_is_built_once_per_weights_and_reused(tiny_model, tiny, context, monkeypatch):
    from harness.models import int8 as int8_module
    from harness.models.bi_encoder import BiEncoder

    texts = list(tiny.passages.values())
    first = BiEncoder(tiny_model, device="cpu", dtype="int8", cache=context.cache).encode(texts)
    assert context.cache.stats["int8-model.miss"] == 1
    monkeypatch.setattr(int8_module, "export", lambda *a: pytest.fail("exported an int8 model already cached"))
    again = BiEncoder(tiny_model, device="cpu", dtype="int8", cache=context.cache).encode(texts)
    assert context.cache.stats["int8-model.hit"] == 1
    assert again.tolist() == first.tolist()


def test_changed_weights_build_another_int8_model(tiny_model, tiny, context):
    import torch

    from harness.models.bi_encoder import BiEncoder

    scorer = BiEncoder(tiny_model, device="cpu", dtype="int8", cache=context.cache)
    before = scorer.encode(list(tiny.passages.values()))
    with torch.no_grad():  # as a loaded adapter would: same object replaced by a changed model
        changed = type(scorer.model).from_pretrained(tiny_model).eval()
        changed.encoder.layer[0].output.dense.weight.mul_(3.0)
    scorer.model = changed
    after = scorer.encode(list(tiny.passages.values()))
    assert context.cache.stats["int8-model.miss"] == 2
    assert not torch.allclose(before, after, atol=1e-3)


def test_an_unmerged_lora_adapter_is_merged_before_quantizing(tiny_model, tiny, context):
    import torch
    from peft import LoraConfig, get_peft_model

    from harness.models.bi_encoder import BiEncoder

    texts = list(tiny.passages.values())
    fp32 = BiEncoder(tiny_model, device="cpu")
    int8 = BiEncoder(tiny_model, device="cpu", dtype="int8", cache=context.cache)
    for scorer in (fp32, int8):
        torch.manual_seed(1)
        scorer.model = get_peft_model(scorer.model, LoraConfig(r=4, target_modules=["query", "value"]))
        for name, p in scorer.model.named_parameters():
            if "lora_B" in name:  # a trained adapter: B is no longer zero
                torch.nn.init.normal_(p, std=0.5)
    reference = fp32.encode(texts)
    plain = BiEncoder(tiny_model, device="cpu").encode(texts)
    got = int8.encode(texts)
    assert torch.nn.functional.cosine_similarity(reference, got).min().item() > 1 - COSINE_TOL
    assert not torch.allclose(reference, plain, atol=1e-3)  # the adapter matters, and int8 kept it


def test_training_in_int8_is_refused_clearly(tiny_model, context):
    from harness.models.cross_encoder import CrossEncoder

    scorer = CrossEncoder(tiny_model, device="cpu", dtype="int8", cache=context.cache)
    with pytest.raises(ConfigError, match="dtype=int8 is an inference-only fast path.*adapter="):
        scorer.score(["q"], ["a passage"])  # gradients enabled: what a training loop asks for


def test_int8_on_a_gpu_device_is_refused(tiny_model):
    from harness.models.bi_encoder import BiEncoder

    with pytest.raises(ConfigError, match="dtype=int8 is the CPU fast path.*device is cuda"):
        BiEncoder(tiny_model, device="cuda", dtype="int8")


def test_int8_encodings_are_cached_apart_from_fp32(tiny_model, context):
    from harness.models.bi_encoder import BiEncoder

    fp32 = BiEncoder(tiny_model, device="cpu").identity()
    int8 = BiEncoder(tiny_model, device="cpu", dtype="int8").identity()
    assert fp32["dtype"] == "float32" and int8["dtype"] == "int8"


@pytest.mark.parametrize("name", ["bi_encoder", "cross_encoder", "late_interaction"])
def test_int8_rerank_reports_its_agreement_with_fp32(name, tiny, tiny_model, context, dataset, caplog):
    reranker = build(context, "reranker", name, model=tiny_model, dtype="int8", int8_check=1)
    with caplog.at_level(logging.INFO, logger="harness.models.rerank"):
        run = reranker.rerank(dataset, tiny.queries, tiny.run)
    [report] = reranker.int8_reports
    assert reranker.run_info(dataset, tiny.queries) == {"int8_check": [report]}  # what run_info.json gets
    assert report["queries"] == 1 and 0 <= report["top10_overlap"] <= 1 and -1 <= report["kendall_tau"] <= 1
    assert report["max_abs_score_change"] > 0  # int8 scores differ from fp32 ones...
    fp32 = build(context, "reranker", name, model=tiny_model).rerank(dataset, tiny.queries, tiny.run)
    qid = "q1"  # ...by what the report says, on the query it checked (the first of the sorted ids)
    assert max(abs(run[qid][d] - fp32[qid][d]) for d in fp32[qid]) == pytest.approx(report["max_abs_score_change"], abs=1e-6)
    assert "int8 vs fp32 on 1 of this run's 2 queries" in caplog.text
    cached = build(context, "reranker", name, model=tiny_model, dtype="int8", int8_check=1)
    assert cached.run_info(dataset, tiny.queries)["int8_check"] is None  # nothing scored here: said, not invented
    assert build(context, "reranker", name, model=tiny_model).run_info(dataset, tiny.queries) is None  # fp32


def test_agreement_of_identical_and_reversed_rankings():
    from harness.models.int8 import agreement

    ref = {"q": {f"d{i}": float(i) for i in range(20)}}
    same = agreement(ref, ref)
    assert same == {"queries": 1, "top10_overlap": 1.0, "kendall_tau": 1.0, "max_abs_score_change": 0.0}
    flipped = agreement({"q": {d: -s for d, s in ref["q"].items()}}, ref)
    assert flipped["top10_overlap"] == 0.0 and flipped["kendall_tau"] == pytest.approx(-1.0)
    assert flipped["max_abs_score_change"] == 38.0


def test_dense_retriever_takes_int8(tiny, tiny_model, context, dataset):
    retriever = build(context, "retriever", "dense", model=tiny_model, top_k=1, dtype="int8")
    queries = [tiny.Query(d, text) for d, text in tiny.passages.items()]
    run = retriever.retrieve(dataset, queries)
    assert sum(next(iter(run[d])) == d for d in tiny.passages) >= 4  # each passage finds itself (near enough)
    assert context.cache.stats["int8-model.miss"] == 1
