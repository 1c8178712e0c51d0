"""A suite's board as a terminal table, Markdown, CSV, LaTeX or an HTML page; then each dataset's own board.

Text formats print the suite table (a column per dataset with its significance markers, the mean, Δ mean,
sig. +/-), its legend, then the per-dataset sections of the ordinary leaderboard (CIs, W/T/L, judged@10,
p-values). CSV is the suite table alone, unmarked, with a 'significant (test) <dataset>' column per test
and dataset. The HTML page holds the suite table (sortable like every board) above the datasets' sections.
"""

from __future__ import annotations

import csv
import html
import io
from typing import Any

from harness.reports.leaderboard import escape
from harness.reports.leaderboard.html import SORT_SCRIPT, STYLE, _cell, _sort_value, section
from harness.reports.leaderboard.render import LATEX_MARKERS, _number, write_all
from harness.reports.leaderboard.suite import SuiteBoard


def header(suite: SuiteBoard) -> list[str]:
    return ["rank", "system", *suite.datasets, f"mean {suite.metric}", "Δ mean", "sig. +/-"]


def rows(suite: SuiteBoard, marked: bool = True) -> list[list[Any]]:
    out = []
    for rank, system in enumerate(suite.systems, start=1):
        scores = suite.scores[system]
        cells = [
            _number(scores.get(label)) + (suite.marker(system, label) if marked and label in scores else "")
            for label in suite.datasets
        ]
        gains, losses = suite.significant(system)
        out.append(
            [
                rank,
                system + (" (baseline)" if system == suite.baseline else ""),
                *cells,
                _number(suite.mean(system)),
                _number(suite.delta(system)),
                "" if system == suite.baseline or not suite.baseline else f"{gains}/{losses}",
            ]
        )
    return out


def title(suite: SuiteBoard) -> str:
    return f"suite {suite.name}: {suite.metric} on {len(suite.datasets)} datasets ({', '.join(suite.datasets)})"


def _table(suite: SuiteBoard, cell, tablefmt: str) -> str:
    from tabulate import tabulate

    def escaped(row):
        return [c if isinstance(c, (int, float)) else cell(c) for c in row]

    return tabulate([escaped(r) for r in rows(suite)], headers=escaped(header(suite)), tablefmt=tablefmt)


def _tex(text: Any) -> str:
    out = escape.latex(text)
    for mark, command in LATEX_MARKERS.items():
        out = out.replace(mark, command)
    return out


def table_text(suite: SuiteBoard, fmt: str) -> str:
    """The suite table alone in a text format, with its title, baseline line and legend."""
    if fmt == "markdown":
        return (
            "\n\n".join(
                [
                    f"## {escape.markdown(title(suite))}",
                    escape.markdown(suite.baseline_line()),
                    _table(suite, escape.markdown, "github"),
                    escape.markdown(suite.legend()),
                ]
            )
            + "\n"
        )
    if fmt == "latex":
        return (
            "\n".join(
                [
                    f"\\paragraph{{{escape.latex(title(suite))}}}",
                    "% " + escape.one_line(suite.baseline_line()),
                    _table(suite, _tex, "latex_raw"),
                    "% " + escape.one_line(suite.legend()),
                ]
            )
            + "\n"
        )
    return (
        "\n".join(
            [
                f"== {escape.one_line(title(suite))} ==",
                "",
                escape.one_line(suite.baseline_line()),
                _table(suite, escape.one_line, "simple"),
                escape.one_line(suite.legend()),
            ]
        )
        + "\n"
    )


def to_csv(suite: SuiteBoard) -> str:
    tests = next((b.options.tests for b in suite.boards.values()), ())
    columns = header(suite) + [f"significant ({t}) {label}" for label in suite.datasets for t in tests]
    columns += [f"dataset {label}" for label in suite.datasets] + ["baseline rule"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape.csv_cell(c) for c in columns])
    for system, row in zip(suite.systems, rows(suite, marked=False)):
        flags = []
        for label in suite.datasets:
            found = suite.boards[label].comparisons.get(system) if label in suite.boards else None
            flags += [("yes" if found.significant.get(t) else "no") if found else "" for t in tests]
        cells = row + flags + list(suite.datasets.values()) + [suite.baseline_reason]
        writer.writerow([escape.csv_cell(c) for c in cells])
    return buffer.getvalue()


def write(suite: SuiteBoard, fmt: str) -> str:
    """The suite table, then each dataset's board as the ordinary leaderboard writes it (CSV: the table only)."""
    if fmt == "csv":
        return to_csv(suite)
    boards = list(suite.boards.values())
    return table_text(suite, fmt) + "\n" + (write_all(boards, fmt) if len(boards) > 1 else _one(boards[0], fmt))


def _one(board, fmt: str) -> str:
    from harness.reports.leaderboard.render import HEADINGS, write as write_board

    return f"{HEADINGS[fmt](board.dataset)}\n\n{write_board(board, fmt)}"


def html_table(suite: SuiteBoard) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header(suite))
    body = "".join("<tr>" + "".join(_cell(c, _sort_value(c)) for c in row) + "</tr>" for row in rows(suite))
    return f'<table class="leaderboard suite"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def page(suite: SuiteBoard) -> str:
    top = (
        f"<section class='suite' data-suite='{html.escape(suite.name, quote=True)}'>"
        f"<h2>{html.escape(title(suite))}</h2><p class='baseline'>{html.escape(suite.baseline_line())}</p>"
        f"{html_table(suite)}<p class='legend'>{html.escape(suite.legend())}</p></section>"
    )
    body = top + "".join(section(board) for board in suite.boards.values())
    name = html.escape(f"Leaderboard: suite {suite.name}")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{name}</title><style>{STYLE}</style></head>"
        f"<body><h1>{name}</h1>{body}<script>{SORT_SCRIPT}</script></body></html>"
    )
