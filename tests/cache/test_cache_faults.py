"""Whole runs against a damaged cache or edited data: the right figure, never a stale or corrupt one.

Runs are in-process (``run_experiment``) on the tiny dataset, a tiny BERT and a
tiny causal LM written by the tests, so every injected fault costs a second.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import pytest

from harness import cache as cache_module
from harness.cache import digests
from harness.cache import QUARANTINE
from harness.pipeline import run_experiment
from harness.testing.hydra import compose_run_config

from ..rag_fixtures import tiny_causal_lm
from tiny_data import RUN

COST = {"train_seconds", "train_step_seconds", "peak_memory_mb"}  # timings differ between runs, by nature
FAULT_BUDGET_SECONDS = 600  # the whole injection loop; it takes about a minute on 2 cores


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """Each test reads the cache as a new process would (nothing verified, nothing hashed yet)."""
    monkeypatch.setattr(cache_module, "_verified", {})
    monkeypatch.setattr(cache_module, "_swept", set())
    monkeypatch.setattr(digests, "_memo", {})


def run(root: Path, cache: Path, results: Path, *overrides: str):
    from omegaconf import OmegaConf

    composed = compose_run_config(
        [f"data_root={root}", f"results_dir={results}", f"cache_dir={cache}", "tracking=none", "show_progress=false", *overrides]
    )
    return run_experiment(OmegaConf.to_container(composed, resolve=True))


def figures(result) -> tuple[dict, dict]:
    return {k: v for k, v in result.metrics.items() if k not in COST}, result.per_query


# -- edited data: no stale hit -------------------------------------------------


def test_an_edited_collection_is_indexed_again(tiny_root, tmp_path):
    cache = tmp_path / "cache"
    before = run(tiny_root, cache, tmp_path / "r1")
    collection = tiny_root / "msmarco-passage-mini" / "collection.tsv"
    # Passage 4, judged 3 for query 101, loses every word of it.
    collection.write_text(
        collection.read_text().replace(
            "The Manhattan Project was led by General Leslie Groves and Robert Oppenheimer.", "Bread rises in a warm oven."
        )
    )
    after = run(tiny_root, cache, tmp_path / "r2")
    assert after.info["cache"]["bm25-index.miss"] == 1 and after.info["cache"]["retrieve.miss"] == 1
    assert after.metrics["ndcg@10"] < before.metrics["ndcg@10"]
    assert figures(after) == figures(run(tiny_root, tmp_path / "fresh", tmp_path / "r3"))


def test_a_moved_data_root_keeps_its_entries(tiny_root, tmp_path):
    cache = tmp_path / "cache"
    before = run(tiny_root, cache, tmp_path / "r1")
    moved = tmp_path / "moved"
    shutil.copytree(tiny_root, moved)
    after = run(moved, cache, tmp_path / "r2")
    assert after.info["cache"] == {"retrieve.hit": 1} and figures(after) == figures(before)


def test_an_edited_run_file_is_read_again(tiny_root, tmp_path):
    path = tmp_path / "mine.trec"
    path.write_text("".join(f"{q} Q0 {d} {i} {s} mine\n" for i, (q, d, s) in enumerate(RUN, 1)))
    cache, choice = tmp_path / "cache", ["retriever=run", f"retriever.path={path}"]
    before = run(tiny_root, cache, tmp_path / "r1", *choice)
    path.write_text("".join(f"{q} Q0 {d} {i} {-s} mine\n" for i, (q, d, s) in enumerate(RUN, 1)))
    after = run(tiny_root, cache, tmp_path / "r2", *choice)
    assert after.info["cache"] == {"retrieve.miss": 1}
    assert after.metrics["ndcg@10"] != before.metrics["ndcg@10"]
    assert figures(after) == figures(run(tiny_root, tmp_path / "fresh", tmp_path / "r3", *choice))


def test_edited_scored_docs_of_the_dataset_are_read_again(tiny_root, tmp_path):
    cache = tmp_path / "cache"
    before = run(tiny_root, cache, tmp_path / "r1", "retriever=run")
    official = tiny_root / "msmarco-passage-mini" / "run.dl19.bm25-top100.trec"
    official.write_text("".join(f"{q} Q0 {d} {i} {-s} bm25\n" for i, (q, d, s) in enumerate(RUN, 1)))
    after = run(tiny_root, cache, tmp_path / "r2", "retriever=run")
    assert after.info["cache"] == {"retrieve.miss": 1} and after.metrics["ndcg@10"] != before.metrics["ndcg@10"]
    assert figures(after) == figures(run(tiny_root, tmp_path / "fresh", tmp_path / "r3", "retriever=run"))


def test_an_edited_qa_jsonl_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setenv("IR_DATASETS_HOME", str(tmp_path / "irds"))
    data = tmp_path / "qa.jsonl"
    items = [
        {
            "id": f"q{i}",
            "question": f"who did {w}",
            "answers": [w],
            "gold_passages": [f"{w} did it"],
            "distractors": [f"nobody did {v}" for v in ("ann", "bob", "carl") if v != w],
        }
        for i, w in enumerate(["ann", "bob", "carl"])
    ]
    data.write_text("".join(json.dumps(item) + "\n" for item in items))
    cache, choice = (
        tmp_path / "cache",
        [
            f"dataset.id=qa-jsonl:{data}",
            "dataset.binary_relevance_level=1",
            "dataset.subset_corpus=false",
            "retriever.stemmer=null",
            "retriever.stopwords=null",
        ],
    )
    before = run(tmp_path, cache, tmp_path / "r1", *choice)
    items[0]["gold_passages"] = ["the answer is elsewhere"]  # q0's gold passage no longer matches its question
    data.write_text("".join(json.dumps(item) + "\n" for item in items))
    after = run(tmp_path, cache, tmp_path / "r2", *choice)
    assert after.info["cache"]["retrieve.miss"] == 1 and after.metrics["ndcg@10"] < before.metrics["ndcg@10"]
    assert figures(after) == figures(run(tmp_path, tmp_path / "fresh", tmp_path / "r3", *choice))


# -- damaged entries: recomputed, same figures -------------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from harness.models.loading import packaged_minilm

    root = tmp_path_factory.mktemp("models")
    tokenizer = AutoTokenizer.from_pretrained(packaged_minilm())
    torch.manual_seed(0)
    BertModel(
        BertConfig(
            vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
        )
    ).save_pretrained(root / "bert")
    tokenizer.save_pretrained(root / "bert")
    return root / "bert", tiny_causal_lm(root / "lm")


def full_pipeline(bert: Path, lm: Path) -> list[str]:
    """BM25, a LoRA-trained bi-encoder reranker (cached adapter and encodings), and RAG with noise."""
    return [
        "dataset=msmarco-passage-mini/trec-dl-2020",
        "retriever=bm25",
        "reranker=bi_encoder",
        f"reranker.model={bert}",
        "peft=lora",
        "train=dl19",
        "train.max_steps=1",
        "train.batch_size=2",
        "train.grad_accumulation=1",
        "train.negatives=2",
        "train.validation_fraction=0.25",
        "train.eval_every=1",
        "generator=hf",
        f"generator.model={lm}",
        "generator.max_new_tokens=4",
        "generator.batch_size=2",
        "noise=random",
        "noise.k=2",
    ]


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


# Entries read only to compute another stage: that stage's entry goes too, so the damaged one is read.
READ_FOR = {"bm25-index": "retrieve", "encodings": "rerank"}
FAULTS = {
    "flip": flip,
    "truncate": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "delete": lambda path: path.unlink(),
}


@pytest.mark.slow
def test_every_fault_in_every_entry_is_recomputed_with_the_same_figures(tiny_root, models, tmp_path, caplog):
    started = time.monotonic()
    overrides = full_pipeline(*models)
    clean_cache = tmp_path / "clean"
    clean = run(tiny_root, clean_cache, tmp_path / "clean-results", *overrides)
    files = sorted(p.relative_to(clean_cache) for p in clean_cache.rglob("*") if p.is_file())
    stages = {f.parts[0] for f in files}
    assert stages == {"bm25-index", "retrieve", "adapter", "encodings", "rerank", "contexts", "generate"}
    injected, survived, failures = 0, 0, []
    for number, (fault, relative) in enumerate((f, r) for f in FAULTS for r in files):
        cache = tmp_path / f"cache-{number}"
        shutil.copytree(clean_cache, cache)
        FAULTS[fault](cache / relative)
        if relative.parts[0] in READ_FOR:
            shutil.rmtree(cache / READ_FOR[relative.parts[0]])
        cache_module._verified.clear()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="harness.cache"):
            result = run(tiny_root, cache, tmp_path / f"results-{number}", *overrides)
        entry = cache / relative.parts[0] / relative.parts[1]
        warned = any(f"cache entry {entry} failed verification" in r.getMessage() for r in caplog.records)
        quarantined = any((cache / QUARANTINE).glob(f"{relative.parts[0]}-{relative.parts[1][:16]}-*"))
        injected += 1
        if figures(result) == figures(clean) and warned and quarantined:
            survived += 1
        else:
            failures.append(
                f"{fault} {relative}: same figures {figures(result) == figures(clean)}, "
                f"warned {warned}, quarantined {quarantined}"
            )
        shutil.rmtree(cache)
    seconds = time.monotonic() - started
    print(
        f"\ncache fault injection: {injected} faults in {len(files)} files of {len(stages)} entry kinds, "
        f"{survived} survived with identical figures ({seconds:.0f} s)"
    )
    assert not failures, "\n".join(failures)
    assert injected == 3 * len(files) and seconds < FAULT_BUDGET_SECONDS
