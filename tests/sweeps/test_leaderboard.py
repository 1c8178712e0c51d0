"""Leaderboard: significance agrees with ranx.compare, corrections, the written formats."""

from __future__ import annotations

import csv
import io
import math
import random

import pytest

from harness.evaluation import evaluate
from harness.reports.leaderboard import Entry, TestOptions, build_leaderboard
from harness.reports.leaderboard.render import write
from harness.reports.leaderboard.significance import correct


def synthetic(seed: int = 3, queries: int = 40, docs: int = 30):
    """Qrels and four runs of rising quality (the better, the more relevant docs on top)."""
    rng = random.Random(seed)
    qrels = {f"q{i}": {f"d{j}": rng.choice([0, 0, 1, 2, 3]) for j in range(docs)} for i in range(queries)}
    runs = {}
    for name, skill in (("weak", 0.0), ("mid", 0.6), ("good", 0.65), ("best", 1.5)):
        runs[name] = {q: {d: rng.random() + skill * rel for d, rel in rels.items()} for q, rels in qrels.items()}
    return qrels, runs


def entries_for(qrels, runs, metrics=("ndcg@10", "map")):
    out = []
    for name, run in runs.items():
        result = evaluate(qrels, run, list(metrics), 1)
        out.append(Entry(name=name, source="test", dataset="synthetic", mean=result.mean, per_query=result.per_query))
    return out


@pytest.mark.parametrize("test", ["student", "fisher"])
def test_markers_agree_with_ranx_compare(test):
    import ranx

    qrels, runs = synthetic()
    board = build_leaderboard(
        entries_for(qrels, runs), "ndcg@10", baseline="mid", options=TestOptions(tests=(test,), correction="none", alpha=0.01)
    )
    ranx_runs = [ranx.Run(run, name=name) for name, run in runs.items()]
    report = ranx.compare(ranx.Qrels(qrels), ranx_runs, ["ndcg@10"], stat_test=test, max_p=0.01)
    significant = 0
    for name in ("weak", "good", "best"):
        theirs = report.comparisons[frozenset(["mid", name])]["ndcg@10"]
        ours = board.comparisons[name]
        if test == "student":
            assert ours.p[test] == pytest.approx(theirs["p_value"], abs=1e-9)
            assert ours.significant[test] == bool(theirs["significant"])
        else:
            # ranx's Fisher test draws its permutations in numba threads and is not reproducible
            # run to run (same seed, different p); compare within Monte Carlo error.
            error = 4 * math.sqrt(max(theirs["p_value"] * (1 - theirs["p_value"]), 0.01) / 1000)
            assert ours.p[test] == pytest.approx(theirs["p_value"], abs=error)
            if abs(theirs["p_value"] - 0.01) > error:
                assert ours.significant[test] == bool(theirs["significant"])
        significant += ours.significant[test]
    assert 0 < significant < 3  # the synthetic systems give both outcomes


def test_holm_and_bonferroni_by_hand():
    p = {"a": 0.01, "b": 0.04, "c": 0.03}
    assert correct(p, "bonferroni") == pytest.approx({"a": 0.03, "b": 0.12, "c": 0.09})
    # Holm: sorted 0.01*3=0.03, 0.03*2=0.06, max(0.06, 0.04*1)=0.06
    assert correct(p, "holm") == pytest.approx({"a": 0.03, "c": 0.06, "b": 0.06})


def test_ranking_effect_sizes_and_formats():
    qrels, runs = synthetic()
    board = build_leaderboard(entries_for(qrels, runs), "ndcg@10", baseline="weak")
    assert [e.name for e in board.entries] == ["best", "good", "mid", "weak"]
    assert board.metrics == ["ndcg@10", "map"]
    best = board.comparisons["best"]
    assert best.delta > 0 and best.effect_size > 0 and best.significant == {"student": True, "fisher": True}
    table = write(board, "table")
    assert "best" in table and "†‡" in table and "holm correction over 3 comparisons" in table
    assert "| best" in write(board, "markdown")
    assert "$^{\\dagger}$" in write(board, "latex")
    parsed = list(csv.DictReader(io.StringIO(write(board, "csv"))))
    assert [row["system"] for row in parsed][-1] == "weak (baseline)"
    assert parsed[0]["significant (student)"] == "yes"
    assert float(parsed[0]["ndcg@10"]) == pytest.approx(board.entries[0].mean["ndcg@10"], abs=1e-4)


def test_unknown_metric_and_baseline_are_clear_errors():
    from harness.errors import ConfigError

    qrels, runs = synthetic(queries=5)
    with pytest.raises(ConfigError, match="metric 'mrr@10' is missing"):
        build_leaderboard(entries_for(qrels, runs), "mrr@10")
    with pytest.raises(ConfigError, match="baseline 'nobody' matches 0 entries"):
        build_leaderboard(entries_for(qrels, runs), "ndcg@10", baseline="nobody")


def test_noise_points_make_a_noise_curve_figure():
    from harness.reports.leaderboard.plots import all_plots

    qrels, runs = synthetic(queries=6)
    entries = entries_for(qrels, {"weak": runs["weak"], "best": runs["best"]})
    entries[0].extra = {"accuracy_at_rho_0.5": 0.4, "accuracy_at_rho_0.0": 0.7, "accuracy_at_rho_1.0": 0.1}
    assert entries[0].noise_curves() == {"accuracy": [(0.0, 0.7), (0.5, 0.4), (1.0, 0.1)]}
    plots = all_plots(build_leaderboard(entries, "ndcg@10", options=TestOptions(tests=("student",))))
    assert set(plots) == {"ndcg@10 by system", "noise curves"}  # no latency or parameters logged
    assert all(png.startswith(b"\x89PNG") for png in plots.values())
