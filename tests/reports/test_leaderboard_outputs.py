"""Leaderboard files escape what users named their runs; --run-file paths may hold '='."""

from __future__ import annotations

import csv
import io

import pytest

from harness.errors import ConfigError, DataError
from harness.reports.leaderboard import Entry, TestOptions, build_leaderboard
from harness.reports.leaderboard.plots import all_plots
from harness.reports.leaderboard.render import write
from harness.reports.leaderboard.run_files import parse_spec

HOSTILE = "<script>alert(1)</script> | `x` *y* [a](b) $m$ a_b\nline2"


def board(names, metric_values=(0.6, 0.4), baseline=None):
    entries = [
        Entry(
            name=name,
            source="s",
            dataset="d",
            mean={"ndcg@10": value},
            per_query={"ndcg@10": {"q1": value, "q2": value / 2, "q3": value / 3}},
        )
        for name, value in zip(names, metric_values)
    ]
    return build_leaderboard(entries, "ndcg@10", baseline=baseline, options=TestOptions(tests=("student",)))


def test_markdown_shows_names_as_text():
    text = write(board([HOSTILE, "plain"]), "markdown")
    row = next(line for line in text.splitlines() if "script" in line and line.startswith("|"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\`x\\` \\*y\\* \\[a\\](b) \\$m\\$ a\\_b line2" in row
    assert "<script>" not in text and len(text.splitlines()) == 2 + 2 + 2 + 2
    # baseline line, blank, header, rule, 2 rows, blank, legend
    assert row.count(" | ") == text.splitlines()[2].count(" | ")  # the escaped '|' splits no cell


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd"])
def test_csv_neutralises_formulas(name):
    rows = list(csv.reader(io.StringIO(write(board([name, "plain"]), "csv"))))
    cells = [row[1] for row in rows[1:]]
    assert f"'{name}" in cells or f"'{name} (baseline)" in cells


def test_csv_quotes_and_keeps_numbers():
    name = 'a,"b"\nc'
    rows = list(csv.DictReader(io.StringIO(write(board([name, "plain"], baseline=name), "csv"))))
    assert rows[0]["system"] == f"{name} (baseline)" and float(rows[0]["ndcg@10"]) == 0.6  # the name, exactly
    assert rows[1]["Δ ndcg@10"].startswith("-")  # a negative number is a number, not a formula


def test_latex_escapes_every_special_character():
    text = write(board(["a\\b & 50% $x$ #1 _u {v} ~w ^z <p|q>", "plain"]), "latex")
    assert (
        "a\\textbackslash{}b \\& 50\\% \\$x\\$ \\#1 \\_u \\{v\\} \\textasciitilde{}w \\textasciicircum{}z "
        "\\textless{}p\\textbar{}q\\textgreater{}"
    ) in text


def test_latex_legend_cannot_leave_its_comment():
    text = write(board(["plain", "x\n\\input{/etc/passwd}"], baseline="input"), "latex")  # named in the legend
    baseline_line, legend = [line for line in text.splitlines() if "\\input{" in line]
    assert legend.startswith("% ") and "'x \\input{/etc/passwd}'" in legend
    assert baseline_line.startswith("% baseline: x \\input{/etc/passwd}, named by --baseline")


def test_terminal_table_shows_control_characters_as_escapes():
    assert "\\x1b[31mred" in write(board(["\x1b[31mred", "plain"]), "table")


def test_plots_take_any_name():
    plots = all_plots(board(["$\\foo{$", "plain"]))  # a bad mathtext pair: matplotlib raised on it
    assert plots and all(png.startswith(b"\x89PNG") for png in plots.values())


def test_run_file_spec_with_equals_in_the_path(tmp_path):
    folder = tmp_path / "retriever.k1=0.9"
    folder.mkdir()
    (folder / "run.trec").write_text("q Q0 d 1 1.0 t\n")
    path = folder / "run.trec"
    assert parse_spec(str(path)) == (path, "run")
    assert parse_spec(f"{path}=mine") == (path, "mine")
    assert parse_spec(f"{path}=k1=0.9") == (path, "k1=0.9")
    with pytest.raises(DataError, match="--run-file '.*nope=x': no such file"):
        parse_spec(f"{tmp_path}/nope=x")


def test_ambiguous_run_file_spec(tmp_path):
    (tmp_path / "a").write_text("q Q0 d 1 1.0 t\n")
    (tmp_path / "a=b").write_text("q Q0 d 1 1.0 t\n")
    with pytest.raises(ConfigError, match="is ambiguous"):
        parse_spec(f"{tmp_path}/a=b")
