"""The RAG stage end to end through run_experiment, on a QA JSONL and a tiny LM written by the test."""

import json

import pytest

from harness.pipeline import run_experiment

from ..rag_fixtures import tiny_causal_lm

ITEMS = [
    {"id": f"q{i}", "question": f"who did {w}", "answers": [w], "gold_passages": [f"{w} did it"], "distractors": [f"bob is {w}"]}
    for i, w in enumerate(["ann", "bob", "carl", "paris"])
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("rag")
    data = root / "qa.jsonl"
    data.write_text("".join(json.dumps(item) + "\n" for item in ITEMS))
    return root, data, tiny_causal_lm(root / "lm")


def config(root, data, lm, noise):
    return {
        "experiment_name": "rag-test",
        "run_name": None,
        "seed": 0,
        "device": "auto",
        "data_root": str(root),
        "results_dir": str(root / "results"),
        "cache_dir": None,
        "use_cache": True,
        "show_progress": False,
        "dataset": {
            "id": f"qa-jsonl:{data}",
            "binary_relevance_level": 1,
            "subset_corpus": False,
            "query_limit": None,
            "judged_only": True,
        },
        "retriever": {
            "name": "bm25",
            "k1": 0.9,
            "b": 0.4,
            "method": "lucene",
            "top_k": 10,
            "stemmer": None,
            "stopwords": None,
            "threads": 0,
        },
        "reranker": None,
        "peft": None,
        "tracking": {"name": "none"},
        "generator": {"name": "hf", "model": str(lm), "max_new_tokens": 4, "batch_size": 2},
        "noise": noise,
        "evaluation": {"metrics": []},
        "plugins": {"blocked": []},
    }


def test_rag_run_writes_answers_and_metrics(setup):
    root, data, lm = setup
    noise = {"name": "hard", "k": 3, "ratio": 0.5, "gold_position": "last", "seed": 0}
    result = run_experiment(config(root, data, lm, noise))
    rows = [json.loads(line) for line in (result.run_dir / "answers.jsonl").read_text().splitlines()]
    assert [r["query_id"] for r in rows] == ["q0", "q1", "q2", "q3"]
    for row in rows:
        assert len(row["context_ids"]) == 3 and row["context_ids"][-1] == row["gold_ids"][0]
        assert row["verdict"] in {"correct", "abstain", "hallucinated"}
    m = result.metrics
    assert m["rag_accuracy"] + m["rag_abstention"] + m["rag_hallucination"] == pytest.approx(1.0)
    assert m["rag_context_precision"] == pytest.approx(1 / 3) and "rag_rejection" not in m
    assert json.loads((result.run_dir / "metrics.json").read_text())["rag_accuracy"] == m["rag_accuracy"]
    again = run_experiment(config(root, data, lm, noise))
    assert again.info["cache"].get("generate.hit") == 1 and again.metrics == m


def test_rejection_at_full_noise_and_end_to_end(setup):
    root, data, lm = setup
    full = run_experiment(config(root, data, lm, {"name": "random", "k": 2, "ratio": 1.0}))
    assert full.metrics["rag_rejection"] == full.metrics["rag_abstention"]
    assert full.metrics["rag_context_precision"] == 0.0
    e2e = run_experiment(config(root, data, lm, None))  # no noise group: the first stage's top k
    assert 0.0 < e2e.metrics["rag_context_precision"] <= 1.0


def test_noise_curve_summary(setup, tmp_path):
    from harness.reports.noise_curve import summarise

    root, data, lm = setup
    for ratio in (0.0, 0.5, 1.0):
        run_experiment(config(root, data, lm, {"name": "random", "k": 2, "ratio": ratio}))
    found = summarise(root / "results" / "rag-test", tmp_path)
    group = next(g for g in found.values() if len(g["points"]) == 3)
    assert [p["ratio"] for p in group["points"]] == [0.0, 0.5, 1.0]
    assert 0.0 <= group["area"]["rag_accuracy"] <= 1.0
    assert (tmp_path / "noise_curve.png").stat().st_size > 0 and (tmp_path / "curves.json").is_file()
    table = json.loads((tmp_path / "groundedness_validation.json").read_text())
    assert sum(sum(c.values()) for c in table.values()) >= 12
