"""plot-sweep over seeds: replicate runs become one point with a 95% t-interval; other differences are refused."""

from __future__ import annotations

import json
import statistics
import types

import pytest

from harness.cli import main
from harness.errors import ConfigError
from harness.reports import sweep_plot


def fake_store(monkeypatch, runs):
    import mlflow

    class Client:
        def get_experiment_by_name(self, name):
            return types.SimpleNamespace(experiment_id="1")

        def search_runs(self, ids, filter_string):
            return [types.SimpleNamespace(data=types.SimpleNamespace(params=p, metrics=m)) for p, m in runs]

    monkeypatch.setattr(mlflow, "MlflowClient", lambda uri: Client())


def run(r, seed, score, **other):
    params = {"peft.r": r, "peft.target_modules": "qv", "seed": seed, "run_name": f"r{r}-s{seed}", "train.lr": "3e-4"}
    return {**params, **other}, {"ndcg_at_10": score}


def test_seeds_are_replicates_with_a_t_interval(monkeypatch):
    scores = [0.50, 0.53, 0.56]
    fake_store(monkeypatch, [run("8", str(s), v) for s, v in enumerate(scores)] + [run("2", "0", 0.4)])
    [two, eight] = sweep_plot.sweep_points("fake://", "e", "peft.r", "ndcg@10", "peft.target_modules")["qv"]
    assert (two.x, two.mean, two.low, two.runs) == (2.0, 0.4, None, 1)
    half = 4.302652729911275 * statistics.stdev(scores) / 3**0.5  # t(0.975, 2 degrees of freedom)
    assert eight.runs == 3 and eight.mean == pytest.approx(0.53)
    assert (eight.low, eight.high) == pytest.approx((0.53 - half, 0.53 + half))
    assert sweep_plot.describe(eight) == f"8.0=0.5300 [{0.53 - half:.4f}, {0.53 + half:.4f}] (3 seeds)"


def test_train_seed_counts_as_a_seed_too(monkeypatch):
    fake_store(monkeypatch, [run("8", "0", 0.5, **{"train.seed": "0"}), run("8", "0", 0.6, **{"train.seed": "1"})])
    [point] = sweep_plot.sweep_points("fake://", "e", "peft.r", "ndcg@10", "peft.target_modules")["qv"]
    assert point.runs == 2 and point.mean == pytest.approx(0.55)


def test_runs_that_differ_in_a_setting_are_refused_not_averaged(monkeypatch):
    fake_store(monkeypatch, [run("8", "0", 0.5), run("8", "1", 0.6, **{"train.lr": "2e-3"})])
    with pytest.raises(
        ConfigError, match=r"runs at peft.r=8.0, peft.target_modules=qv differ in train.lr \(r8-s0: 3e-4, r8-s1: 2e-3\)"
    ):
        sweep_plot.sweep_points("fake://", "e", "peft.r", "ndcg@10", "peft.target_modules")
    with pytest.raises(ConfigError, match="--series train.lr"):
        sweep_plot.sweep_points("fake://", "e", "peft.r", "ndcg@10", None)


def test_the_plot_and_its_json_carry_the_intervals(monkeypatch, tmp_path, capsys):
    fake_store(monkeypatch, [run("8", str(s), v) for s, v in enumerate([0.5, 0.6])] + [run("16", "0", 0.7)])
    out = tmp_path / "rank.png"
    argv = ["plot-sweep", "--experiment", "e", "--x", "peft.r", "--series", "peft.target_modules"]
    assert main([*argv, "--tracking-uri", "fake://", "--out", str(out), "--log-x"]) == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["points"]["qv"] == [[8.0, pytest.approx(0.55)], [16.0, 0.7]]
    [[x, low, high, n], [_, none_low, none_high, one]] = saved["ci95"]["qv"]
    assert (x, n, one, none_low, none_high) == (8.0, 2, 1, None, None) and low < 0.55 < high
    assert "(2 seeds)" in capsys.readouterr().out
