"""Bootstrap intervals of noise curves and the paired base vs trained difference, on run folders
written by the test (metrics.json, config.yaml, answers.jsonl as a RAG run writes them)."""

import json

import numpy as np
import pytest
import yaml

from harness.reports import noise_curve
from harness.cli import main

RATIOS = [0.0, 0.5, 1.0]


def verdict_table(seed: int, n: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    return [[str(v) for v in rng.choice(["correct", "abstain", "hallucinated"], size=n)] for _ in RATIOS]


def write_sweep(root, name: str, table: list[list[str]], trained: bool) -> None:
    for ratio, verdicts in zip(RATIOS, table):
        run = root / f"{name}-{ratio}"
        run.mkdir(parents=True)
        config = {
            "dataset": {"id": "qa-jsonl:test", "query_limit": 0},
            "generator": {"name": "hf", "model": "lm"},
            "noise": {"name": "random", "ratio": ratio, "k": 3, "gold_position": None},
        }
        if trained:
            config.update(train={"part": "generator", "noise": "random", "dataset": "qa/train"}, peft={"name": "lora"})
        (run / "config.yaml").write_text(yaml.safe_dump(config))
        share = {m: sum(v == noise_curve.VERDICT_OF[m] for v in verdicts) / len(verdicts) for m in noise_curve.RATES}
        (run / "metrics.json").write_text(json.dumps(share))
        (run / "answers.jsonl").write_text(
            "".join(json.dumps({"query_id": f"q{i}", "verdict": v}) + "\n" for i, v in enumerate(verdicts))
        )


def test_each_rate_gets_the_percentile_bootstrap_interval_of_its_questions(tmp_path):
    table = verdict_table(1, 40)
    write_sweep(tmp_path, "base", table, trained=False)
    found = noise_curve.curves(noise_curve.collect(tmp_path))
    (group,) = found.values()
    assert group["questions"] == 40
    # independent computation: the same resampled question indices, means by hand
    idx = np.random.default_rng(0).integers(0, 40, size=(noise_curve.RESAMPLES, 40))
    for point, verdicts in zip(group["points"], table):
        correct = np.array([v == "correct" for v in verdicts], dtype=float)
        expected = np.percentile(correct[idx].mean(axis=1), [2.5, 97.5])
        assert point["ci95"]["rag_accuracy"] == pytest.approx(list(expected))
        assert point["ci95"]["rag_accuracy"][0] <= point["rag_accuracy"] <= point["ci95"]["rag_accuracy"][1]
    low, high = group["area_ci95"]["rag_hallucination"]
    assert low < group["area"]["rag_hallucination"] < high


def test_trained_minus_base_is_paired_over_the_same_questions(tmp_path):
    base = verdict_table(2, 50)
    # the trained generator answers like the base, except that it abstains on the first 5 questions the
    # base hallucinated at rho=1
    trained = [list(row) for row in base]
    flipped = [i for i, v in enumerate(base[-1]) if v == "hallucinated"][:5]
    for i in flipped:
        trained[-1][i] = "abstain"
    write_sweep(tmp_path, "base", base, trained=False)
    write_sweep(tmp_path, "trained", trained, trained=True)
    rows = noise_curve.collect(tmp_path)
    (diff,) = noise_curve.differences(rows)
    assert " + lora noise-trained" in diff["other"] and " + " not in diff["base"].split(" | ")[1]
    at = {p["ratio"]: p for p in diff["points"]}
    assert at[0.0]["rag_accuracy"] == 0.0 and at[0.0]["ci95"]["rag_accuracy"] == [0.0, 0.0]  # identical answers
    moved = len(flipped) / 50
    assert at[1.0]["rag_hallucination"] == pytest.approx(-moved)
    low, high = at[1.0]["ci95"]["rag_hallucination"]
    assert low <= -moved <= high < 0  # every resample moves the same way: the pairing removes the shared noise
    # each curve's own interval is far wider than the paired difference's: the shared noise cancels
    curves = noise_curve.curves(rows)
    widths = [c["points"][-1]["ci95"]["rag_hallucination"] for c in curves.values()]
    assert all(w[1] - w[0] > high - low for w in widths)
    assert diff["area"]["rag_hallucination"] == pytest.approx(-moved / 4)  # trapezoid: the last point's half of 0.5


def test_noise_curve_command_prints_intervals_and_writes_the_difference_plot(tmp_path, capsys):
    write_sweep(tmp_path / "sweep", "base", verdict_table(3, 30), trained=False)
    write_sweep(tmp_path / "sweep", "trained", verdict_table(4, 30), trained=True)
    assert main(["noise-curve", str(tmp_path / "sweep"), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "95% bootstrap CI" in out and "paired difference, n=30 questions" in out
    assert (tmp_path / "out" / "noise_curve_difference.png").stat().st_size > 0
    assert json.loads((tmp_path / "out" / "differences.json").read_text())[0]["questions"] == 30
