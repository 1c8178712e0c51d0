"""The three scorers on a tiny BERT: batching invariance, gradients, the maths they rely on."""

import pytest
import torch

from harness.models import functional
from harness.models.batching import batches, length_order, sorted_map

QUERIES = ["where is the eiffel tower", "sugar"]
PASSAGES = [
    "The Eiffel tower is in Paris, the capital of France.",
    "Paris",
    "A long passage " + "about many unrelated things " * 10,
]


def test_length_order_and_batches_restore_input_order():
    items = ["aaa", "a", "aaaa", "aa"]
    assert length_order([len(x) for x in items]) == [2, 0, 3, 1]
    assert list(batches([2, 0, 3, 1], 3)) == [[2, 0, 3], [1]]
    seen = []
    out = sorted_map(items, [len(x) for x in items], 2, lambda chunk: (seen.append(chunk), [x.upper() for x in chunk])[1])
    assert out == ["AAA", "A", "AAAA", "AA"] and seen == [["aaaa", "aaa"], ["aa", "a"]]


def test_bi_encoder_alone_equals_in_batch(tiny_model):
    from harness.models.bi_encoder import BiEncoder

    enc = BiEncoder(tiny_model, device="cpu", batch_size=2)
    together = enc.encode(PASSAGES)
    for i, text in enumerate(PASSAGES):
        torch.testing.assert_close(enc.encode([text])[0], together[i], atol=1e-5, rtol=1e-5)
    # encode() is embed() + pooling: compare with pooling done by hand on the model's states.
    batch = enc.tokenizer(PASSAGES[:1], return_tensors="pt")
    with torch.no_grad():
        hidden = enc.model(**batch).last_hidden_state[0]
    torch.testing.assert_close(together[0], hidden.mean(0), atol=1e-5, rtol=1e-5)


def test_bi_encoder_score_is_differentiable_cosine(tiny_model):
    from harness.models.bi_encoder import BiEncoder

    enc = BiEncoder(tiny_model, device="cpu")
    scores = enc.score(QUERIES, PASSAGES[:2])
    scores.sum().backward()
    assert any(p.grad is not None for p in enc.model.parameters())
    q, d = enc.encode(QUERIES, query=True), enc.encode(PASSAGES[:2])
    expected = torch.nn.functional.cosine_similarity(q, d)
    torch.testing.assert_close(scores.detach(), expected, atol=1e-5, rtol=1e-5)


def test_cross_encoder_alone_equals_in_batch_and_is_seeded(tiny_model):
    from harness.models.cross_encoder import CrossEncoder

    ce = CrossEncoder(tiny_model, device="cpu", batch_size=2, seed=3, head="classifier")
    qs = [QUERIES[0]] * 3
    together = ce.predict(qs, PASSAGES)
    alone = [ce.predict([q], [p])[0] for q, p in zip(qs, PASSAGES)]
    assert together == pytest.approx(alone, abs=1e-5)
    assert len(set(round(s, 6) for s in together)) == 3  # the pair, not the batch, decides
    again = CrossEncoder(tiny_model, device="cpu", seed=3, head="classifier").predict(qs, PASSAGES)
    assert again == pytest.approx(together, abs=1e-6)
    ce.score(qs[:1], PASSAGES[:1]).sum().backward()
    assert ce.model.classifier.weight.grad is not None


def test_segment_cosine_head_is_the_cosine_of_the_two_segments_mean_states(tiny_model):
    from harness.models.batching import tokenize
    from harness.models.cross_encoder import CrossEncoder

    ce = CrossEncoder(tiny_model, device="cpu", batch_size=2)  # a plain encoder: auto picks segment_cosine
    assert ce.head == "segment_cosine" and not hasattr(ce.model, "classifier")
    scores = ce.score([QUERIES[0]] * 2, PASSAGES[:2])
    for i, passage in enumerate(PASSAGES[:2]):  # by hand, one pair at a time (no padding)
        batch = tokenize(ce.tokenizer, [QUERIES[0]], 512, "cpu", pairs=[passage])
        hidden = ce.model(**batch).last_hidden_state[0]
        segment = batch["token_type_ids"][0].bool()
        expected = 20.0 * torch.nn.functional.cosine_similarity(hidden[~segment].mean(0), hidden[segment].mean(0), dim=0)
        torch.testing.assert_close(scores[i], expected, atol=1e-4, rtol=1e-4)
    scores.sum().backward()  # differentiable through the backbone: trainable without a head
    assert any(p.grad is not None for p in ce.model.parameters())


def test_auto_head_keeps_a_trained_classifier(tiny_model, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from harness.models.cross_encoder import CrossEncoder

    AutoModelForSequenceClassification.from_pretrained(tiny_model, num_labels=1).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(tmp_path)
    assert CrossEncoder(str(tmp_path), device="cpu").head == "classifier"


def test_cross_encoder_truncates_the_passage_not_the_query(tiny_model):
    from harness.models.batching import tokenize

    from harness.models.cross_encoder import CrossEncoder

    ce = CrossEncoder(tiny_model, device="cpu", max_length=16)
    batch = tokenize(ce.tokenizer, [QUERIES[0]], 16, "cpu", pairs=[PASSAGES[2]])
    assert batch["input_ids"].shape[1] == 16
    text = ce.tokenizer.decode(batch["input_ids"][0])
    assert text.startswith("[CLS] where is the eiffel tower [SEP]")


def test_late_interaction_markers_projection_and_maxsim(tiny_model):
    from harness.models.late_interaction import LateInteraction, flatten, pad, unflatten

    li = LateInteraction(tiny_model, dim=8, device="cpu", batch_size=2)
    vecs, mask = li.embed(["paris"], doc=True)
    assert vecs.shape == (1, 4, 8)  # [CLS] [unused1] paris [SEP]
    assert torch.allclose(vecs.norm(dim=-1), torch.ones(1, 4), atol=1e-5)
    docs = li.encode(PASSAGES, doc=True)
    alone = [li.encode([p], doc=True)[0] for p in PASSAGES]
    for a, b in zip(alone, docs):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert [len(x) for x in unflatten(flatten(docs))] == [len(x) for x in docs]
    q = li.encode([QUERIES[0]], doc=False)[0]
    d, d_mask = pad(docs)
    batched = functional.maxsim(q[None].expand(3, -1, -1), torch.ones(3, len(q)), d, d_mask)
    by_hand = torch.stack([(q @ x.T).max(1).values.sum() for x in docs])
    torch.testing.assert_close(batched, by_hand, atol=1e-5, rtol=1e-5)
    paired = li.score([QUERIES[0]] * 3, PASSAGES)
    torch.testing.assert_close(paired.detach(), by_hand, atol=1e-4, rtol=1e-4)


def test_late_interaction_rejects_unknown_marker(tiny_model):
    from harness.errors import ConfigError
    from harness.models.late_interaction import LateInteraction

    with pytest.raises(ConfigError, match="query_marker: '<q>'"):
        LateInteraction(tiny_model, query_marker="<q>", device="cpu")


@pytest.mark.gpu
def test_auto_dtype_on_cuda_is_half_precision_and_close_to_fp32(tiny_model):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from harness.models.bi_encoder import BiEncoder

    gpu = BiEncoder(tiny_model, device="auto")
    assert gpu.device.type == "cuda" and gpu.dtype in (torch.bfloat16, torch.float16)
    cpu = BiEncoder(tiny_model, device="cpu")
    torch.testing.assert_close(gpu.encode(PASSAGES), cpu.encode(PASSAGES), atol=5e-2, rtol=5e-2)


def test_auto_device_and_dtype_on_this_machine():
    from harness.models.loading import pick_device, pick_dtype

    device = pick_device("auto")
    assert device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        assert pick_dtype("auto", device) == torch.float32
    assert pick_dtype("bf16", torch.device("cpu")) == torch.bfloat16


def test_a_query_longer_than_max_length_is_truncated_not_a_traceback(tiny_model):
    from harness.models.cross_encoder import CrossEncoder

    ce = CrossEncoder(tiny_model, device="cpu", max_length=16)
    scores = ce.predict(["word " * 40, QUERIES[0]], [PASSAGES[0], PASSAGES[2]])
    assert len(scores) == 2 and all(isinstance(s, float) for s in scores)
