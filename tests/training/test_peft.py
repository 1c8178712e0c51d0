"""PEFT methods on tiny models: parameter counts, merge equivalence, adapter artifacts."""

import json

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, BertModel

from harness.cache import StageCache
from harness.components import Context
from harness.errors import ConfigError
from harness.models.backbone import identify
from harness.training.peft_artifacts import AdapterError, count_parameters, load_adapter, metadata_digest, save_adapter
from harness.plugin_manager import get_plugin_manager
from harness.registry import ComponentRegistry

HIDDEN, LAYERS = 32, 2


def tiny_bert(cls=BertModel, **kw):
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=2, intermediate_size=64, **kw
    )
    return cls(config).eval()


def method(name, tmp_path, **config):
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    return registry.create("peft", {"name": name, **config}, Context(cache=StageCache(tmp_path)))


def batch():
    torch.manual_seed(1)
    return {"input_ids": torch.randint(0, 100, (3, 7)), "attention_mask": torch.ones(3, 7, dtype=torch.long)}


def test_lora_r8_on_query_value_of_minilm_l6_is_73728(tmp_path):
    # MiniLM-L6's architecture (hidden 384, 6 layers); random weights: counts need no checkpoint.
    config = BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)
    model = method("lora", tmp_path, r=8, target_modules="qv").apply(BertModel(config))
    assert count_parameters(model)[0] == 73_728 == 6 * 2 * (8 * 384 + 384 * 8)


@pytest.mark.parametrize("preset,per_layer", [("qv", 2), ("qkvo", 4)])
def test_lora_counts_follow_rank_and_placement(tmp_path, preset, per_layer):
    for r in (1, 2, 4):
        model = method("lora", tmp_path, r=r, target_modules=preset).apply(tiny_bert())
        assert count_parameters(model)[0] == LAYERS * per_layer * 2 * r * HIDDEN


def test_lora_keeps_the_classifier_head_trainable(tmp_path):
    model = method("lora", tmp_path, r=2).apply(tiny_bert(BertForSequenceClassification, num_labels=1))
    head = HIDDEN + 1
    assert count_parameters(model)[0] == LAYERS * 2 * 2 * 2 * HIDDEN + head


def test_unknown_preset_and_bad_rank_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown preset 'qz'"):
        method("lora", tmp_path, target_modules="qz").apply(tiny_bert())
    with pytest.raises(ConfigError, match=r"^peft \(peft 'lora'\): key 'r': 0 is out of range \(must be >= 1\)$"):
        method("lora", tmp_path, r=0)
    with pytest.raises(ConfigError, match=r"key 'target_modules': 5 is neither a preset"):
        method("lora", tmp_path, target_modules=5).apply(tiny_bert())


def test_merged_lora_gives_the_same_outputs(tmp_path):
    peft_method = method("lora", tmp_path, r=4)
    model = peft_method.apply(tiny_bert())
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)  # a trained-looking update (B starts at zero)
        before = model(**batch()).last_hidden_state
        merged = peft_method.merge(model)
        after = merged(**batch()).last_hidden_state
    assert not any("lora" in n for n, _ in merged.named_parameters())
    assert torch.allclose(before, after, atol=1e-5)


def test_adapter_starts_as_identity_and_counts(tmp_path):
    base = tiny_bert()
    with torch.no_grad():
        reference = base(**batch()).last_hidden_state
    model = method("adapter", tmp_path, reduction_factor=4).apply(tiny_bert())
    with torch.no_grad():
        assert torch.allclose(model(**batch()).last_hidden_state, reference, atol=1e-6)
    bottleneck = HIDDEN // 4
    per_adapter = HIDDEN * bottleneck + bottleneck + bottleneck * HIDDEN + HIDDEN
    assert count_parameters(model)[0] == LAYERS * per_adapter  # pfeiffer: after each FFN only
    houlsby = method("adapter", tmp_path, reduction_factor=4, placement="houlsby").apply(tiny_bert())
    assert count_parameters(houlsby)[0] == 2 * LAYERS * per_adapter


def test_none_method_freezes_or_trains_everything(tmp_path):
    assert count_parameters(method("none", tmp_path, mode="frozen").apply(tiny_bert()))[0] == 0
    full = tiny_bert()
    assert count_parameters(method("none", tmp_path, mode="full").apply(full))[0] == count_parameters(full)[1]


def _trained_lora(tmp_path, base=None):
    peft_method = method("lora", tmp_path, r=2)
    model = peft_method.apply(base if base is not None else tiny_bert())
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.normal_(0, 0.3)
    return peft_method, model


def _apply(tmp_path):
    return lambda model, meta: method(meta["method"], tmp_path, **meta["config"]).apply(model)


def _saved(tmp_path, name="tiny-bert"):
    """A trained LoRA adapter of tiny_bert() saved with its backbone's identity, and the trained model."""
    backbone = identify(tiny_bert(), name)
    _, model = _trained_lora(tmp_path)
    folder = save_adapter(model, tmp_path / "adapter", method="lora", config={"r": 2}, backbone=backbone)
    return folder, model


def test_adapter_round_trip_gives_identical_outputs(tmp_path):
    folder, model = _saved(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["adapter.safetensors", "metadata.json"]
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["trainable_parameters"] == LAYERS * 2 * 2 * 2 * HIDDEN
    assert meta["backbone"]["name"] == "tiny-bert" and meta["format"] == "harness-adapter/2"
    loaded = load_adapter(tiny_bert(), folder, _apply(tmp_path), "tiny-bert")
    with torch.no_grad():
        assert torch.equal(loaded(**batch()).last_hidden_state, model(**batch()).last_hidden_state)


def test_corrupted_adapter_is_refused(tmp_path):
    folder, _ = _saved(tmp_path)
    data = bytearray((folder / "adapter.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (folder / "adapter.safetensors").write_bytes(bytes(data))
    with pytest.raises(AdapterError, match="corrupted or missing"):
        load_adapter(tiny_bert(), folder, _apply(tmp_path), "tiny-bert")


def test_mismatched_adapter_is_refused(tmp_path):
    folder, _ = _saved(tmp_path)
    with pytest.raises(
        AdapterError, match="trained on backbone 'tiny-bert', not 'other'; the weights are the same: load it with model=tiny-bert"
    ):
        load_adapter(tiny_bert(), folder, _apply(tmp_path), "other")
    meta = json.loads((folder / "metadata.json").read_text())
    meta["config"] = {"r": 4}  # metadata claims another rank than the weights hold (and its checksum agrees)
    meta["metadata_sha256"] = metadata_digest(meta)
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(AdapterError, match="does not fit the model"):
        load_adapter(tiny_bert(), folder, _apply(tmp_path), "tiny-bert")


def test_metadata_errors_name_the_file(tmp_path):
    with pytest.raises(AdapterError, match="metadata.json is missing"):
        load_adapter(tiny_bert(), tmp_path, _apply(tmp_path), "tiny-bert")
    (tmp_path / "metadata.json").write_text("{broken")
    with pytest.raises(AdapterError, match=r"metadata.json:1: invalid JSON"):
        load_adapter(tiny_bert(), tmp_path, _apply(tmp_path), "tiny-bert")
