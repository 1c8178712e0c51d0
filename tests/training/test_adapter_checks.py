"""An adapter loads only onto the backbone it was trained on; any malformed metadata is an error naming the file."""

import json

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformers import BertConfig, BertForSequenceClassification, BertModel

from harness.models.backbone import identify, weights_digest
from harness.cache import StageCache
from harness.components import Context
from harness.errors import HarnessError
from harness.training.peft_artifacts import AdapterError, load_adapter, metadata_digest, read_metadata, save_adapter
from harness.plugin_manager import get_plugin_manager
from harness.registry import ComponentRegistry

NAME = "tiny-bert"


def tiny_bert(seed=0, cls=BertModel, **kw):
    torch.manual_seed(seed)
    settings = {
        "vocab_size": 100,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        **kw,
    }
    return cls(BertConfig(**settings)).eval()


@pytest.fixture(scope="module")
def registry():
    return ComponentRegistry(get_plugin_manager(entry_point_plugins=False))


def peft(registry, tmp_path, name="lora", **config):
    return registry.create("peft", {"name": name, **config}, Context(cache=StageCache(tmp_path / "cache")))


def applier(registry, tmp_path):
    return lambda model, meta: peft(registry, tmp_path, meta["method"], **meta["config"]).apply(model)


def save_trained(registry, folder, base, method="lora", config=None, name=NAME):
    """Train-looking parameters of ``method`` on ``base``, saved with the identity of ``base`` as loaded."""
    config = {"r": 2} if config is None and method == "lora" else (config or {})
    backbone = identify(base, name)
    model = peft(registry, folder.parent, method, **config).apply(base)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.1)
    return save_adapter(model, folder, method=method, config=config, backbone=backbone), model


def outputs(model):
    torch.manual_seed(1)
    ids = torch.randint(0, 100, (2, 6))
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=torch.ones_like(ids))
    return out.last_hidden_state if hasattr(out, "last_hidden_state") else out.logits


def test_the_metadata_records_the_backbone_identity(registry, tmp_path):
    folder, _ = save_trained(registry, tmp_path / "adapter", tiny_bert())
    backbone = read_metadata(folder)["backbone"]
    assert {k: backbone[k] for k in ("name", "model_class", "model_type", "hidden_size", "num_layers")} == {
        "name": NAME,
        "model_class": "BertModel",
        "model_type": "bert",
        "hidden_size": 32,
        "num_layers": 2,
    }
    assert sorted(backbone["weights_sha256"]) == ["bfloat16", "float16", "float32"]  # a float32 backbone: all casts
    assert backbone["weights_sha256"]["float32"] == weights_digest(tiny_bert(), "float32")


def test_same_shapes_other_weights_is_refused(registry, tmp_path):
    folder, _ = save_trained(registry, tmp_path / "adapter", tiny_bert(seed=0))
    with pytest.raises(AdapterError) as err:
        load_adapter(tiny_bert(seed=1), folder, applier(registry, tmp_path), NAME)
    assert str(err.value).startswith(
        f"{folder}: adapter does not belong to this backbone: trained on 'tiny-bert' "
        "(BertModel, model_type bert, hidden 32, 2 layers), but the weights of the "
        "model it is being loaded onto differ (float32 sha256 "
    )


@pytest.mark.parametrize(
    "other, loaded_onto",
    [
        (lambda: tiny_bert(hidden_size=48), "(BertModel, model_type bert, hidden 48, 2 layers)"),
        (lambda: tiny_bert(num_hidden_layers=3), "(BertModel, model_type bert, hidden 32, 3 layers)"),
        (
            lambda: tiny_bert(cls=BertForSequenceClassification, num_labels=1),
            "(BertForSequenceClassification, model_type bert, hidden 32, 2 layers)",
        ),
    ],
)
def test_another_architecture_is_refused(registry, tmp_path, other, loaded_onto):
    folder, _ = save_trained(registry, tmp_path / "adapter", tiny_bert())
    with pytest.raises(AdapterError) as err:
        load_adapter(other(), folder, applier(registry, tmp_path), NAME)
    assert str(err.value) == (
        f"{folder}: adapter does not belong to this backbone: another architecture: trained on "
        f"'tiny-bert' (BertModel, model_type bert, hidden 32, 2 layers), being loaded onto "
        f"'tiny-bert' {loaded_onto}"
    )


def test_same_weights_under_another_config_is_refused(registry, tmp_path):
    folder, _ = save_trained(registry, tmp_path / "adapter", tiny_bert())
    other = tiny_bert(layer_norm_eps=1e-3)  # same seed, same weights; other outputs
    assert weights_digest(other, "float32") == weights_digest(tiny_bert(), "float32")
    with pytest.raises(AdapterError, match="with another config"):
        load_adapter(other, folder, applier(registry, tmp_path), NAME)


def test_the_same_checkpoint_in_another_dtype_is_accepted(registry, tmp_path):
    folder, trained = save_trained(registry, tmp_path / "fp32", tiny_bert())
    for dtype in (torch.bfloat16, torch.float16):  # what from_pretrained(dtype=...) gives: a cast
        load_adapter(tiny_bert().to(dtype), folder, applier(registry, tmp_path), NAME)
    bf16, _ = save_trained(registry, tmp_path / "bf16", tiny_bert().to(torch.bfloat16))
    assert sorted(read_metadata(bf16)["backbone"]["weights_sha256"]) == ["bfloat16"]
    load_adapter(tiny_bert(), bf16, applier(registry, tmp_path), NAME)  # trained on a bf16 GPU, served on CPU
    with pytest.raises(
        AdapterError,
        match=r"in bfloat16, which a float16 model cannot be compared with: load the "
        r"backbone in bfloat16 \(or float32\)",
    ):
        load_adapter(tiny_bert().to(torch.float16), bf16, applier(registry, tmp_path), NAME)


def test_full_fine_tuning_saves_the_whole_backbone_and_reloads_checked(registry, tmp_path):
    folder, trained = save_trained(registry, tmp_path / "full", tiny_bert(), method="none", config={"mode": "full"})
    meta = read_metadata(folder)
    assert meta["trainable_parameters"] == meta["total_parameters"] == sum(p.numel() for p in tiny_bert().parameters())
    loaded = load_adapter(tiny_bert(), folder, applier(registry, tmp_path), NAME)
    assert torch.equal(outputs(loaded), outputs(trained))
    with pytest.raises(AdapterError, match="the weights of the model it is being loaded onto differ"):
        load_adapter(tiny_bert(seed=1), folder, applier(registry, tmp_path), NAME)


def test_an_adapter_of_the_older_format_is_refused_with_how_to_recreate_it(registry, tmp_path):
    folder, _ = save_trained(registry, tmp_path / "adapter", tiny_bert())
    meta = read_metadata(folder)
    old = {**meta, "format": "harness-adapter/1", "backbone": NAME}
    (folder / "metadata.json").write_text(json.dumps(old))
    with pytest.raises(
        AdapterError,
        match=r"format harness-adapter/1, from an older harness\) records no digest of its "
        r"backbone.*re-create it: re-run its training",
    ):
        load_adapter(tiny_bert(), folder, applier(registry, tmp_path), NAME)


def test_a_bad_saved_method_config_names_the_file(registry, tmp_path):
    folder, _ = save_trained(registry, tmp_path / "adapter", tiny_bert())
    meta = read_metadata(folder)
    meta["config"] = {"r": 0}
    meta["metadata_sha256"] = metadata_digest(meta)
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(AdapterError) as err:
        load_adapter(tiny_bert(), folder, applier(registry, tmp_path), NAME)
    assert str(err.value) == (
        f"{folder}: cannot apply the adapter's method 'lora' with its saved config: peft "
        "(peft 'lora'): key 'r': 0 is out of range (must be >= 1)"
    )


# --- Property-based: whatever happens to metadata.json, loading is an error naming the file, never another
# exception, unless the file still says exactly the same thing.


@pytest.fixture(scope="module")
def saved(registry, tmp_path_factory):
    folder, _ = save_trained(registry, tmp_path_factory.mktemp("saved") / "adapter", tiny_bert())
    return folder, (folder / "metadata.json").read_bytes()


def outcome(registry, folder, content: bytes):
    """Load with ``content`` as metadata.json: None if it loaded, else the HarnessError (anything else propagates)."""
    (folder / "metadata.json").write_bytes(content)
    try:
        load_adapter(tiny_bert(), folder, applier(registry, folder.parent), NAME)
    except HarnessError as exc:
        return exc
    return None


def assert_refused(registry, folder, content: bytes):
    error = outcome(registry, folder, content)
    assert error is not None, f"loaded with metadata {content[:200]!r}"
    assert str(folder) in str(error)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
# Every key the format requires, and the JSON type its value must have.
REQUIRED = {
    ("format",): str,
    ("method",): str,
    ("config",): dict,
    ("backbone",): dict,
    ("shapes",): dict,
    ("sha256",): str,
    ("metadata_sha256",): str,
    ("backbone", "name"): str,
    ("backbone", "model_class"): str,
    ("backbone", "model_type"): (str, type(None)),
    ("backbone", "hidden_size"): (int, type(None)),
    ("backbone", "num_layers"): (int, type(None)),
    ("backbone", "config_sha256"): str,
    ("backbone", "weights_sha256"): dict,
}
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def mutated(raw: bytes, path: tuple, value=None, drop=False) -> bytes:
    meta = json.loads(raw)
    parent = meta
    for key in path[:-1]:
        parent = parent[key]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return json.dumps(meta).encode()


def of_type(value, types) -> bool:
    types = types if isinstance(types, tuple) else (types,)
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


@PROPERTY
@given(content=st.binary(max_size=300))
def test_random_bytes_are_refused(registry, saved, content):
    assert_refused(registry, saved[0], content)


@PROPERTY
@given(value=JSON.filter(lambda v: not isinstance(v, dict)))
def test_json_that_is_not_an_object_is_refused(registry, saved, value):
    assert_refused(registry, saved[0], json.dumps(value).encode())


@PROPERTY
@given(path=st.sampled_from(sorted(REQUIRED)))
def test_a_dropped_key_is_refused(registry, saved, path):
    assert_refused(registry, saved[0], mutated(saved[1], path, drop=True))


@PROPERTY
@given(data=st.data(), path=st.sampled_from(sorted(REQUIRED)))
def test_a_value_of_the_wrong_type_is_refused(registry, saved, data, path):
    value = data.draw(JSON.filter(lambda v: not of_type(v, REQUIRED[path])))
    assert_refused(registry, saved[0], mutated(saved[1], path, value))


@PROPERTY
@given(data=st.data(), byte=st.integers(0x80, 0xFF))
def test_invalid_utf8_is_refused_with_its_line(registry, saved, data, byte):
    raw = saved[1]
    at = data.draw(st.integers(0, len(raw)))
    error = outcome(registry, saved[0], raw[:at] + bytes([byte]) + raw[at:])
    line = raw[:at].count(b"\n") + 1
    assert isinstance(error, AdapterError) and str(error).startswith(f"{saved[0] / 'metadata.json'}:{line}: not UTF-8")


@PROPERTY
@given(data=st.data())
def test_a_truncated_file_is_refused(registry, saved, data):
    raw = saved[1]
    assert_refused(registry, saved[0], raw[: data.draw(st.integers(0, len(raw) - 1))])


@PROPERTY
@given(data=st.data(), bit=st.integers(0, 7))
def test_a_flipped_bit_loads_only_if_the_metadata_still_says_the_same(registry, saved, data, bit):
    raw = bytearray(saved[1])
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] ^= 1 << bit
    try:
        same = json.loads(bytes(raw)) == json.loads(saved[1])  # e.g. a space that became a tab
    except ValueError:
        same = False
    error = outcome(registry, saved[0], bytes(raw))
    if same:
        assert error is None
    else:
        assert error is not None and str(saved[0]) in str(error)


def test_the_unchanged_metadata_loads(registry, saved):
    assert outcome(registry, saved[0], saved[1]) is None


# --- Through the harness: `adapter=PATH` onto a checkpoint retrained in place (same path and shapes).


def write_checkpoint(folder, seed):
    from transformers import AutoTokenizer

    from harness.models.loading import packaged_minilm

    tokenizer = AutoTokenizer.from_pretrained(packaged_minilm())
    tiny_bert(seed, vocab_size=tokenizer.vocab_size).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def adapter_of_checkpoint(registry, checkpoint, tmp_path):
    """A LoRA adapter of a bi-encoder on ``checkpoint``, saved as training saves one."""
    from harness.training.stage import backbone_name, trainable_scorer

    trained = bi_encoder(registry, checkpoint, tmp_path)
    scorer = trainable_scorer(trained)
    backbone = identify(scorer.model, backbone_name(trained))
    scorer.model = peft(registry, tmp_path, r=2).apply(scorer.model)
    return save_adapter(scorer.model, tmp_path / "adapter", method="lora", config={"r": 2}, backbone=backbone)


def bi_encoder(registry, checkpoint, tmp_path):
    return registry.create(
        "reranker",
        {"name": "bi_encoder", "model": str(checkpoint)},
        Context(cache=StageCache(tmp_path / "cache")),
        where="reranker=bi_encoder",
    )


def test_a_saved_adapter_is_refused_on_a_checkpoint_retrained_in_place(registry, tmp_path):
    from harness.training.stage import load_saved

    checkpoint = tmp_path / "tiny"
    write_checkpoint(checkpoint, seed=0)
    folder = adapter_of_checkpoint(registry, checkpoint, tmp_path)
    load_saved(bi_encoder(registry, checkpoint, tmp_path), peft(registry, tmp_path), str(folder))  # same: loads
    write_checkpoint(checkpoint, seed=1)
    with pytest.raises(
        AdapterError,
        match=f"^{folder}: adapter does not belong to this backbone: trained on "
        f"'{checkpoint}' .* the weights of the model it is being loaded onto differ",
    ):
        load_saved(bi_encoder(registry, checkpoint, tmp_path), peft(registry, tmp_path), str(folder))


@pytest.mark.slow
def test_harness_run_refuses_a_mismatched_or_malformed_adapter_with_exit_2(registry, tiny_root, tmp_path):
    import subprocess
    import sys

    checkpoint = tmp_path / "tiny"
    write_checkpoint(checkpoint, seed=0)
    folder = adapter_of_checkpoint(registry, checkpoint, tmp_path)
    write_checkpoint(checkpoint, seed=1)
    command = [
        sys.executable,
        "-m",
        "harness.cli",
        "run",
        "retriever=run",
        "reranker=bi_encoder",
        f"reranker.model={checkpoint}",
        "peft=lora",
        f"adapter={folder}",
        "tracking=none",
        f"results_dir={tmp_path / 'results'}",
    ]
    out = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-3000:]
    assert any(
        line.startswith(f"harness: error: {folder}: adapter does not belong to this backbone: trained on '{checkpoint}'")
        for line in out.stderr.splitlines()
    )
    (folder / "metadata.json").write_text("[]")
    out = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-3000:]
    assert (
        f"harness: error: {folder / 'metadata.json'}: adapter metadata must be a JSON object, not a JSON list"
        in out.stderr.splitlines()
    )
