"""`harness run ... peft=lora train=dl19`: train, evaluate on DL20, save and reload the adapter."""

import json
import subprocess
import sys

import pytest
from mlflow import MlflowClient


def harness(*args, cwd):
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-4000:]
    return out


@pytest.mark.slow
def test_train_then_rerank_then_reload(tiny_root, tiny_model, tmp_path):
    results = tmp_path / "results"
    common = [
        "dataset=msmarco-passage-mini/trec-dl-2020",
        "retriever=run",
        "reranker=cross_encoder",
        "reranker.head=classifier",
        f"reranker.model={tiny_model}",
        f"results_dir={results}",
    ]
    train = [
        "peft=lora",
        "train=dl19",
        "train.max_steps=2",
        "train.batch_size=2",
        "train.grad_accumulation=1",
        "train.negatives=2",
        "train.validation_fraction=0.25",
        "train.eval_every=1",
    ]
    first = harness(*common, *train, "experiment_name=train", cwd=tmp_path)
    [run_dir] = (results / "train").iterdir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    # LoRA r=8 on query/value of 2 layers of hidden 32, plus the 33-parameter classifier head.
    assert metrics["trainable_parameters"] == 2 * 2 * 2 * 8 * 32 + 33
    assert 0 < metrics["trainable_share"] < 0.01 and metrics["train_steps"] == 2
    assert {"train_seconds", "peak_memory_mb", "train_step_seconds", "ndcg@10"} <= set(metrics)
    meta = json.loads((run_dir / "adapter" / "metadata.json").read_text())
    assert meta["method"] == "lora" and meta["train"]["dataset"].endswith("trec-dl-2019")
    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("train").experiment_id])
    assert len(client.get_metric_history(run.info.run_id, "train_loss")) == 2
    assert "adapter/adapter.safetensors" in {a.path for a in client.list_artifacts(run.info.run_id, "adapter")}
    assert "adapter.miss=1" in first.stderr

    again = harness(*common, *train, "experiment_name=again", cwd=tmp_path)
    assert "adapter.hit=1" in again.stderr and "rerank.hit=1" in again.stderr
    [again_dir] = (results / "again").iterdir()
    assert json.loads((again_dir / "metrics.json").read_text())["ndcg@10"] == metrics["ndcg@10"]

    loaded = harness(
        *common, "peft=lora", f"load_adapter={run_dir / 'adapter'}", "use_cache=false", "experiment_name=loaded", cwd=tmp_path
    )
    [loaded_dir] = (results / "loaded").iterdir()
    assert json.loads((loaded_dir / "metrics.json").read_text())["ndcg@10"] == pytest.approx(metrics["ndcg@10"], abs=1e-6)
    assert loaded.returncode == 0 and "adapter= is deprecated" not in loaded.stderr

    # head=auto: the adapter's backbone (a sequence classifier) decides the head; no reranker.head needed.
    auto = [a for a in common if a != "reranker.head=classifier"]
    by_default = harness(
        *auto, "peft=lora", f"load_adapter={run_dir / 'adapter'}", "use_cache=false", "experiment_name=auto", cwd=tmp_path
    )
    [auto_dir] = (results / "auto").iterdir()
    assert json.loads((auto_dir / "metrics.json").read_text())["ndcg@10"] == pytest.approx(metrics["ndcg@10"], abs=1e-6)
    assert "trained with head=classifier: reranker.head=auto uses it" in by_default.stderr

    # adapter= is load_adapter='s deprecated alias: the same run, with one warning.
    by_run_id = harness(
        *common, "peft=lora", f"adapter={run.info.run_id}", "use_cache=false", "experiment_name=by_run_id", cwd=tmp_path
    )
    [by_id_dir] = (results / "by_run_id").iterdir()
    assert json.loads((by_id_dir / "metrics.json").read_text())["ndcg@10"] == pytest.approx(metrics["ndcg@10"], abs=1e-6)
    assert by_run_id.returncode == 0
    assert by_run_id.stderr.count("adapter= is deprecated") == 1 and f"use load_adapter={run.info.run_id}" in by_run_id.stderr


@pytest.mark.slow
def test_train_without_a_reranker_is_a_clear_error(tiny_root, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "peft=lora", "train=dl19", "tracking=none", f"results_dir={tmp_path}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2 and "train / load_adapter need a reranker to train (e.g. reranker=cross_encoder" in out.stderr


@pytest.mark.parametrize(
    "kind,loss", [("bi_encoder", "inbatch"), ("late_interaction", "listwise"), ("cross_encoder", "pointwise")]
)
def test_each_reranker_kind_trains_with_lora(kind, loss, tiny_model, tmp_path):
    """One LoRA training run per reranker design and loss: the loss curve exists and the adapter is non-zero."""
    from harness.cache import StageCache
    from harness.components import Context
    from harness.training.peft_artifacts import count_parameters
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry
    from harness.training.loop import TrainConfig, train
    from harness.training.data import Example

    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    ctx = Context(cache=StageCache(tmp_path / "cache"), device="cpu", show_progress=False)
    reranker = registry.create("reranker", {"name": kind, "model": tiny_model}, ctx)
    peft = registry.create("peft", {"name": "lora", "r": 2}, ctx)
    reranker.scorer.model = peft.apply(reranker.scorer.model)
    assert 0 < count_parameters(reranker.scorer.model)[0] < count_parameters(reranker.scorer.model)[1]
    texts = {"p": "the manhattan project was led by oppenheimer", "n1": "cats have soft fur", "n2": "paris is in france"}
    examples = [Example(f"q{i}", "who led the manhattan project", [("p", 3)], ["n1", "n2"]) for i in range(4)]
    qrels = {f"q{i}": {"p": 3, "n1": 0} for i in range(4)}
    result = train(
        reranker.scorer,
        examples,
        [],
        qrels,
        texts.get,
        TrainConfig(loss=loss, negatives=2, batch_size=2, lr=1e-2, epochs=1, validation_fraction=0),
        show_progress=False,
    )
    assert result.steps >= 1 and all(v == v for _, v in result.losses)  # finite (not NaN)
    lora_b = [p for n, p in reranker.scorer.model.named_parameters() if "lora_B" in n]
    assert lora_b and any(float(p.detach().abs().sum()) > 0 for p in lora_b)  # B moved away from its zero start


def test_judged_passages_outside_the_corpus_are_left_out(tiny_root):
    from harness.plugin_manager import get_plugin_manager
    from harness.training.stage import _training_data
    from harness.training.loop import TrainConfig

    qrels_file = tiny_root / "msmarco-passage-mini" / "qrels.dl19-passage.txt"
    qrels_file.write_text(qrels_file.read_text() + "101 0 999 3\n101 0 998 0\n")  # not in collection.tsv
    qrels, split, text = _training_data(TrainConfig(validation_fraction=0.25), get_plugin_manager(), tiny_root)
    assert "999" not in qrels["101"] and "998" not in qrels["101"]
    for example in split.train + split.validation:
        for doc_id in [d for d, _ in example.positives] + example.negatives:
            assert text(doc_id)


@pytest.mark.slow
def test_unknown_adapter_run_id_is_a_clear_error(tiny_root, tiny_model, tmp_path):
    missing = "0123456789abcdef0123456789abcdef"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            "retriever=run",
            "reranker=cross_encoder",
            f"reranker.model={tiny_model}",
            "peft=lora",
            f"load_adapter={missing}",
            f"results_dir={tmp_path / 'r'}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2
    assert f"load_adapter={missing}: no adapter artifacts for this MLflow run id at sqlite:///" in out.stderr


def test_adapter_key_ignores_what_only_chooses_the_documents_scored(tiny_model, tmp_path):
    """``reranker.top_k`` never reaches training: changing it reuses the trained adapter, and the
    key at the default equals the key from before it was pinned; an option training reads keys it."""
    from harness.cache import StageCache
    from harness.components import Context
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry
    from harness.training.loop import TrainConfig
    from harness.training.stage import adapter_key

    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    ctx = Context(cache=StageCache(tmp_path / "cache"), device="cpu", show_progress=False)
    peft = registry.create("peft", {"name": "lora", "r": 2}, ctx)

    def key(**options):
        reranker = registry.create("reranker", {"name": "cross_encoder", "model": tiny_model, **options}, ctx)
        return adapter_key("reranker", reranker, peft, TrainConfig()), reranker

    default, reranker = key()
    assert default["reranker_config"] == dict(reranker.cache_payload())  # unchanged at the default
    assert key(top_k=30)[0] == default
    assert key(max_length=64)[0] != default
