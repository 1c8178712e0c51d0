"""Leaderboard statistics (bootstrap CI, W/T/L, judged@10, '< 0.001'), the baseline rule, readable names,
one board per dataset: checked against independent computations and by hand."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from harness.reports.leaderboard import Entry, TestOptions, build_leaderboard
from harness.reports.leaderboard.board import build_leaderboards
from harness.reports.leaderboard.bootstrap import interval, judged_share, top_documents, wins_ties_losses
from harness.reports.leaderboard.entries import unique_names
from harness.reports.leaderboard.html import page
from harness.reports.leaderboard.names import first_stage_key, short_path, system_name
from harness.reports.leaderboard.plots import all_plots, notes
from harness.reports.leaderboard.render import write, write_all
from harness.reports.leaderboard.significance import format_p

FORMATS = ("table", "markdown", "csv", "latex")


def entry(name, scores, dataset="d", **fields):
    per_query = {f"q{i}": float(v) for i, v in enumerate(scores)}
    return Entry(
        name=name,
        source="s",
        dataset=dataset,
        mean={"ndcg@10": float(np.mean(scores))},
        per_query={"ndcg@10": per_query},
        **fields,
    )


def numpy_interval(values, resamples=10_000, seed=42):
    """The textbook percentile bootstrap, all resamples drawn at once."""
    values = np.asarray(values, dtype=float)
    picks = np.random.default_rng(seed).integers(0, len(values), size=(resamples, len(values)))
    return tuple(np.percentile(values[picks].mean(axis=1), [2.5, 97.5]))


def test_bootstrap_intervals_match_numpy_with_the_same_seed():
    rng = np.random.default_rng(5)
    base, other = rng.random(37), rng.random(37)
    board = build_leaderboard(
        [entry("base", base), entry("other", other)], "ndcg@10", baseline="base", options=TestOptions(tests=("student",))
    )
    order = sorted(range(37), key=lambda i: f"q{i}")  # the board pairs queries in sorted id order
    assert board.intervals["other"] == pytest.approx(numpy_interval(other[order]), abs=1e-12)
    assert board.comparisons["other"].interval == pytest.approx(numpy_interval((other - base)[order]), abs=1e-12)
    low, high = board.comparisons["other"].interval
    assert low < board.comparisons["other"].delta < high


def test_bootstrap_blocks_give_the_one_shot_stream(monkeypatch):
    import harness.reports.leaderboard.bootstrap as bootstrap

    values = np.random.default_rng(1).random(50)
    monkeypatch.setattr(bootstrap, "BLOCK", 777)  # many small blocks
    assert interval(values, 3000, 7) == pytest.approx(numpy_interval(values, 3000, 7), abs=1e-12)


def test_wins_ties_losses_by_hand():
    control = [0.5, 0.2, 0.3, 0.9, 0.4]
    treatment = [0.6, 0.2 + 1e-10, 0.1, 0.9, 0.7]  # win, tie (within 1e-9), loss, tie, win
    assert wins_ties_losses(control, treatment) == (2, 2, 1)
    board = build_leaderboard(
        [entry("a", control), entry("b", treatment)], "ndcg@10", baseline="a", options=TestOptions(tests=("student",))
    )
    assert board.comparisons["b"].wtl == (2, 2, 1)
    assert "2/2/1" in write(board, "table") and "2/2/1" in page(board)


def test_judged_at_10_by_hand():
    run = {"q1": {f"d{i}": 20.0 - i for i in range(12)}, "q2": {"x": 1.0, "d1": 0.5}}
    qrels = {"q1": {"d0": 1, "d3": 0, "d11": 2}, "q2": {"d1": 0}, "q3": {"d0": 1}}
    top = top_documents(run)
    assert top["q1"] == [f"d{i}" for i in range(10)]  # d11 is ranked 12th: not in the top 10
    assert judged_share(top, qrels) == {"q1": 2 / 10, "q2": 1 / 2, "q3": 0.0}  # a label 0 is a judgment too


def test_p_values_below_resolution_print_as_less_than_in_every_format():
    assert format_p(0.0) == "< 0.001" and format_p(0.00049) == "< 0.001" and format_p(0.0123) == "0.0123"
    assert format_p(0.004, 0.01) == "< 0.01"
    rng = np.random.default_rng(2)
    base = rng.random(60) * 0.5
    board = build_leaderboard(
        [entry("base", base), entry("better", base + 0.3 + rng.random(60) * 0.01)], "ndcg@10", baseline="base"
    )
    assert board.comparisons["better"].p_corrected["student"] < 1e-6
    shown = {"table": "< 0.001", "markdown": "&lt; 0.001", "csv": "< 0.001", "latex": "\\textless{} 0.001"}
    for fmt, text in shown.items():
        assert text in write(board, fmt), fmt
    assert "&lt; 0.001</td>" in page(board) and "0.0000" not in write(board, "table")
    parsed = list(csv.DictReader(io.StringIO(write(board, "csv"))))
    better = next(row for row in parsed if row["system"] == "better")
    assert better["p (student)"] == "< 0.001" and better["p (fisher)"] == "< 0.001"
    assert not any(row[key] in ("0", "0.0", "0.0000") for row in parsed for key in ("p (student)", "p (fisher)"))


def test_baseline_is_the_first_stage_the_others_build_on():
    entries = [
        entry("rerank-a", [0.9, 0.8, 0.7], upstream="S"),
        entry("bm25", [0.5, 0.4, 0.3], stage="S"),
        entry("rerank-b", [0.6, 0.5, 0.2], upstream="S"),
        entry("dense", [0.1, 0.1, 0.1], stage="D"),
    ]
    board = build_leaderboard(entries, "ndcg@10", options=TestOptions(tests=("student",)))
    assert (board.baseline, board.baseline_reason) == ("bm25", "the first stage the others build on")
    assert write(board, "table").splitlines()[0] == "baseline: bm25, the first stage the others build on"
    assert board.comparisons["rerank-a"].delta > 0 and board.comparisons["dense"].delta < 0


def test_baseline_picks_the_stage_most_build_on_and_falls_back_to_the_best():
    two = [
        entry("s1", [0.5, 0.5], stage="A"),
        entry("s2", [0.6, 0.6], stage="B"),
        entry("r1", [0.7, 0.7], upstream="A"),
        entry("r2", [0.8, 0.8], upstream="A"),
        entry("r3", [0.9, 0.9], upstream="B"),
    ]
    assert build_leaderboard(two, "ndcg@10", options=TestOptions(tests=("student",))).baseline == "s1"  # two build on A, one on B
    plain = [entry("low", [0.1, 0.2]), entry("high", [0.8, 0.9]), entry("mid", [0.5, 0.5])]
    board = build_leaderboard(plain, "ndcg@10", options=TestOptions(tests=("student",)))
    assert board.baseline == "high" and board.baseline_reason.startswith("the best entry")
    assert all(c.delta < 0 for c in board.comparisons.values())  # no flattering gains over the worst
    named = build_leaderboard(plain, "ndcg@10", baseline="mid", options=TestOptions(tests=("student",)))
    assert (named.baseline, named.baseline_reason) == ("mid", "named by --baseline")


def test_a_named_baseline_applies_where_it_exists_and_is_an_error_nowhere():
    from harness.errors import ConfigError

    entries = [
        entry("bm25", [0.2, 0.3], "dl19"),
        entry("mine", [0.5, 0.4], "dl19"),
        entry("bm25", [0.1, 0.2], "dl20"),
        entry("other", [0.6, 0.7], "dl20"),
    ]
    boards = build_leaderboards(entries, "ndcg@10", baseline="mine", options=TestOptions(tests=("student",)))
    assert [(b.baseline, b.baseline_reason) for b in boards] == [
        ("mine", "named by --baseline"),
        ("other", "the best entry (no first stage that the others build on)"),
    ]
    with pytest.raises(ConfigError, match="baseline 'nobody' matches 0 entries"):
        build_leaderboards(entries, "ndcg@10", baseline="nobody", options=TestOptions(tests=("student",)))


PARAMS = {
    "retriever.name": "bm25",
    "retriever.k1": "0.9",
    "retriever.b": "0.4",
    "reranker": "None",
    "generator": "None",
    "run_name": "None",
    "peft.name": "none",
    "train": "None",
    "adapter": "None",
}
OFFICIAL = {**PARAMS, "retriever.name": "run", "retriever.path": "None", "retriever.top_k": "None"}
DL19 = "msmarco-passage-mini/trec-dl-2019"


def test_readable_names_from_the_config():
    assert system_name(PARAMS, DL19) == "bm25"
    assert system_name(OFFICIAL, DL19) == "bm25 (official run)"
    assert system_name(OFFICIAL, "beir/scifact") == "official run"
    lora = {**OFFICIAL, "reranker.name": "cross_encoder", "peft.name": "lora", "peft.r": "8", "train.dataset": DL19}
    assert system_name(lora, DL19) == "bm25 (official run) + cross_encoder [lora r=8]"
    untrained = {**lora, "train.dataset": "None", "train": "None"}
    assert system_name(untrained, DL19) == "bm25 (official run) + cross_encoder"
    assert system_name({**PARAMS, "reranker.name": "bi_encoder"}, DL19) == "bm25 + bi_encoder"
    assert system_name({**PARAMS, "retriever.name": "dense"}, DL19) == "dense"
    assert system_name({**PARAMS, "run_name": "my-run"}, DL19) == "my-run"  # a name given explicitly stays
    assert system_name({}, DL19, "run-4fe2afcd") == "run-4fe2afcd"  # no config: the run's name


def test_first_stage_keys_link_rerankers_to_their_retriever(tmp_path):
    reranked = {**PARAMS, "reranker.name": "cross_encoder", "reranker.batch_size": "32", "retriever.device": "cpu"}
    assert first_stage_key(reranked, DL19) == first_stage_key(PARAMS, DL19)
    assert first_stage_key({**PARAMS, "retriever.k1": "1.2"}, DL19) != first_stage_key(PARAMS, DL19)
    path = tmp_path / "run.trec"
    from harness.reports.leaderboard.names import run_file_key

    assert first_stage_key({**OFFICIAL, "retriever.path": str(path)}, DL19) == run_file_key(str(path))


def test_colliding_names_get_the_distinguishing_param():
    sweep = [entry("bm25", [0.5], params={**PARAMS, "retriever.k1": k1}) for k1 in ("0.6", "1.2")]
    assert [e.name for e in unique_names(sweep)] == ["bm25 [retriever.k1=0.6]", "bm25 [retriever.k1=1.2]"]


def test_short_sources(tmp_path, monkeypatch):
    (tmp_path / "runs").mkdir()
    monkeypatch.chdir(tmp_path)
    assert short_path(tmp_path / "runs" / "x.trec") == "runs/x.trec"
    assert short_path("/") == "/"


def test_latency_plot_only_with_two_points():
    one = [entry("a", [0.5, 0.4], latency=1.0), entry("b", [0.3, 0.2])]
    board = build_leaderboard(one, "ndcg@10", options=TestOptions(tests=("student",)))
    assert "ndcg@10 vs latency" not in all_plots(board)
    assert notes(board) == ["no ndcg@10 vs latency plot: only 1 entry has a latency figure"]
    assert "only 1 entry has a latency figure" in page(board)
    two = [entry("a", [0.5, 0.4], latency=1.0), entry("b", [0.3, 0.2], latency=2.0)]
    board = build_leaderboard(two, "ndcg@10", options=TestOptions(tests=("student",)))
    assert "ndcg@10 vs latency" in all_plots(board) and notes(board) == []


def test_two_datasets_give_one_section_each_in_every_format():
    entries = [
        entry("bm25", [0.5, 0.4, 0.3], "dl19", stage="S19", judged={"q0": 1.0, "q1": 0.5, "q2": 0.0}),
        entry("rerank", [0.7, 0.6, 0.2], "dl19", upstream="S19"),
        entry("bm25", [0.45, 0.42], "dl20", stage="S20"),
        entry("rerank", [0.5, 0.3], "dl20", upstream="S20"),
    ]
    for dl20 in entries[2:]:  # DL20's own query ids: nothing to pair with DL19's
        dl20.per_query["ndcg@10"] = {f"x{q}": v for q, v in dl20.per_query["ndcg@10"].items()}
    boards = build_leaderboards(entries, "ndcg@10", options=TestOptions(tests=("student",)))
    assert [(b.dataset, b.baseline) for b in boards] == [("dl19", "bm25"), ("dl20", "bm25")]
    assert boards[0].baseline == "bm25" and boards[0].judged(boards[0].entries[1]) == pytest.approx(0.5)
    for fmt in ("table", "markdown", "latex"):
        text = write_all(boards, fmt)
        assert "dl19" in text and "dl20" in text and text.replace("\\%", "%").count("95% CI") >= 2
        assert text.count("W/T/L") >= 2 and text.count("judged@10") >= 2
    assert "== dataset: dl19 ==" in write_all(boards, "table") and "## dl20" in write_all(boards, "markdown")
    rows = list(csv.DictReader(io.StringIO(write_all(boards, "csv"))))
    assert [r["dataset"] for r in rows] == ["dl19", "dl19", "dl20", "dl20"]
    assert {"95% CI", "W/T/L", "judged@10", "95% CI low", "Δ 95% CI high"} <= set(rows[0])
    html = page(boards)
    assert html.count("<section class='board'") == 2 and html.count('<table class="leaderboard">') == 2


def test_an_entry_sharing_no_query_with_the_baseline_is_left_uncompared(caplog):
    entries = [entry("base", [0.5, 0.4]), entry("other", [0.9])]
    entries[1].per_query["ndcg@10"] = {"elsewhere": 0.9}
    board = build_leaderboard(entries, "ndcg@10", baseline="base", options=TestOptions(tests=("student",)))
    assert "other" not in board.comparisons and "shares no query with the baseline" in caplog.text
    assert "other" in write(board, "table")
