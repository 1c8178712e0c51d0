"""Counterfactual robustness (RGB): adoption, error detection, accuracy under counterfactual context.

On a tiny QA JSONL with counterfactual answers written by the test, answered by
a scripted generator (one fixed answer per question), so every rate is known.
"""

import json
from dataclasses import dataclass

import pytest

from harness.components import Generator
from harness.hookspecs import hookimpl
from harness.pipeline import run_experiment
from harness.plugin_manager import get_plugin_manager

ITEMS = [
    {
        "id": "q0",
        "question": "who wrote hamlet",
        "answers": ["Shakespeare"],
        "gold_passages": ["Hamlet is a tragedy written by William Shakespeare."],
        "distractors": ["Macbeth is a tragedy set in Scotland."],
        "counterfactuals": [{"id": "cf0", "text": "Hamlet is a tragedy written by Christopher Marlowe."}],
        "counterfactual_answers": ["Marlowe", "Christopher Marlowe"],
    },
    {
        "id": "q1",
        "question": "what is the capital of australia",
        "answers": ["Canberra"],
        "gold_passages": ["Canberra is the capital city of Australia."],
        "distractors": ["Australia is a country and a continent."],
        "counterfactuals": [{"id": "cf1", "text": "Sydney is the capital city of Australia."}],
        "counterfactual_answers": ["Sydney"],
    },
    {
        "id": "q2",
        "question": "who painted the mona lisa",
        "answers": ["Leonardo da Vinci", "Leonardo"],
        "gold_passages": ["The Mona Lisa was painted by Leonardo da Vinci."],
        "distractors": ["The Louvre is a museum in Paris."],
        "counterfactuals": [{"id": "cf2", "text": "The Mona Lisa was painted by Raphael."}],
        "counterfactual_answers": ["Raphael"],
    },
    {
        "id": "q3",
        "question": "what is the capital of france",
        "answers": ["Paris"],  # no counterfactual answer
        "gold_passages": ["Paris is the capital of France."],
        "distractors": ["Lyon is a city in France."],
        "counterfactuals": [{"id": "cf3", "text": "Marseille is the capital of France."}],
    },
]
ANSWERS = {  # question -> the scripted generator's answer
    "who wrote hamlet": "Christopher Marlowe wrote it.",  # adopts the false fact
    "what is the capital of australia": "The passages contradict each other; it is Canberra.",  # detects, corrects
    "who painted the mona lisa": "I cannot answer.",  # neither
    "what is the capital of france": "Paris",
}


class Scripted(Generator):
    @dataclass
    class Config:
        pass

    def generate(self, questions, contexts):
        return [ANSWERS[q] for q in questions]


class ScriptedPlugin:
    @hookimpl
    def harness_add_generators(self):
        return {"scripted": Scripted}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cf")
    path = root / "qa.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in ITEMS))
    return root, path


def run(root, path, noise, name="cf"):
    config = {
        "experiment_name": name,
        "run_name": None,
        "seed": 0,
        "device": "cpu",
        "data_root": str(root),
        "results_dir": str(root / "results"),
        "cache_dir": None,
        "use_cache": True,
        "show_progress": False,
        "dataset": {
            "id": f"qa-jsonl:{path}",
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
        "generator": {"name": "scripted"},
        "noise": noise,
        "evaluation": {"metrics": []},
        "plugins": {"blocked": []},
    }
    result = run_experiment(config, pm=get_plugin_manager(entry_point_plugins=False, extra_plugins=[ScriptedPlugin()]))
    rows = {r["query_id"]: r for r in map(json.loads, (result.run_dir / "answers.jsonl").read_text().splitlines())}
    return result, rows


def test_counterfactual_rates_on_the_covered_questions(data):
    result, rows = run(*data, {"name": "counterfactual", "k": 2, "ratio": 0.5, "gold_position": "last", "seed": 0})
    m = result.metrics
    assert m["rag_counterfactual_questions"] == 3  # q3 has no counterfactual answer: not covered
    assert set(result.per_query["rag_counterfactual_adoption"]) == {"q0", "q1", "q2"}
    assert m["rag_counterfactual_adoption"] == pytest.approx(1 / 3)  # q0
    assert m["rag_error_detection"] == pytest.approx(1 / 3)  # q1
    assert m["rag_error_correction"] == pytest.approx(1 / 3)  # q1: detected, and correct
    assert m["rag_counterfactual_accuracy"] == pytest.approx(1 / 3)  # q1 of q0-q2
    assert m["rag_accuracy"] == pytest.approx(2 / 4)  # q1, q3 of all four
    assert m["rag_counterfactual_share"] == pytest.approx(0.5)  # one own counterfactual passage of two
    assert rows["q0"]["context_ids"] == ["cf0", "q0/gold/0"] and rows["q0"]["adopted"] is True
    assert rows["q1"]["error_detected"] is True and rows["q1"]["adopted"] is False
    assert rows["q2"]["counterfactual_answers"] == ["Raphael"] and not rows["q2"]["error_detected"]
    assert "adopted" not in rows["q3"] and rows["q3"]["verdict"] == "correct"
    assert result.info["rag"]["counterfactual_questions"] == 3
    assert json.loads((result.run_dir / "run_info.json").read_text())["rag"]["context_size"]["max"] == 2


def test_hard_noise_never_draws_a_questions_own_counterfactuals(data):
    result, rows = run(*data, {"name": "hard", "k": 2, "ratio": 0.5, "gold_position": "first", "seed": 0}, "hard")
    ranked = {}
    for line in (result.run_dir / "run.trec").read_text().splitlines():
        qid, _, doc, *_ = line.split()
        ranked.setdefault(qid, []).append(doc)
    for qid, row in rows.items():
        own = f"cf{qid[1:]}"
        assert own in ranked[qid][:2]  # BM25 ranks it high: the hardest negative there is, and it is left out
        assert own not in row["context_ids"] and row["context_ids"][0] == f"{qid}/gold/0"
    assert result.metrics["rag_counterfactual_share"] == 0.0
    assert result.metrics["rag_counterfactual_adoption"] == pytest.approx(1 / 3)  # the answers are fixed


def test_short_contexts_are_reported(data):
    result, _ = run(*data, {"name": "random", "k": 3, "ratio": 0.0, "gold_position": "first", "seed": 0}, "short")
    info = result.info["rag"]
    assert info["k"] == 3 and info["short_contexts"] == 4  # one gold passage each, no noise slot at rho = 0
    assert info["context_size"] == {"min": 1, "max": 1, "mean": 1.0}
    assert result.metrics["rag_context_size"] == 1.0
