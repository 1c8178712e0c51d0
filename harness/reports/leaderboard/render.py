"""A leaderboard as rows, then as a terminal table, Markdown, CSV or LaTeX."""

from __future__ import annotations

import csv
import io
from typing import Any, Optional

from harness.reports.leaderboard import escape
from harness.reports.leaderboard.board import Leaderboard


def _number(value: Optional[float], digits: int = 4) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if abs(value) >= 1000 and float(value).is_integer() else f"{value:.{digits}f}"


def header(board: Leaderboard) -> list[str]:
    cols = ["rank", "system", *board.metrics, f"Δ {board.metric}", "d"]
    cols += [f"p ({t})" for t in board.tests] + ["latency s", "trainable params", "source"]
    return cols


def rows(board: Leaderboard, marked: bool = True) -> list[list[Any]]:
    """Raw values (floats or None) beside text; ``marked`` appends significance markers to the metric."""
    out = []
    for rank, entry in enumerate(board.entries, start=1):
        found = board.comparisons.get(entry.name)
        score = _number(entry.mean[board.metric]) + (board.markers(entry.name) if marked else "")
        row = [rank, entry.name + (" (baseline)" if entry.name == board.baseline else ""), score]
        row += [_number(entry.mean[m]) for m in board.metrics[1:]]
        row += [_number(found.delta) if found else "", _number(found.effect_size, 2) if found else ""]
        row += [_number(found.p_corrected[t]) if found else "" for t in board.tests]
        row += [_number(entry.latency, 3), _number(entry.trainable_params, 0), entry.source]
        out.append(row)
    return out


def _table(board: Leaderboard, cell, tablefmt: str) -> str:
    """The rows and header through tabulate, each text cell escaped by ``cell`` (numbers left alone)."""
    from tabulate import tabulate

    def escaped(row):
        return [c if isinstance(c, (int, float)) else cell(c) for c in row]

    return tabulate([escaped(row) for row in rows(board)], headers=escaped(header(board)), tablefmt=tablefmt)


def terminal(board: Leaderboard) -> str:
    return _table(board, escape.one_line, "simple") + "\n" + escape.one_line(board.legend())


def markdown(board: Leaderboard) -> str:
    return _table(board, escape.markdown, "github") + "\n\n" + escape.markdown(board.legend()) + "\n"


def to_csv(board: Leaderboard) -> str:
    """Unmarked numbers plus one 'significant (test)' column per test, for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape.csv_cell(c) for c in header(board) + [f"significant ({t})" for t in board.tests]])
    for entry, row in zip(board.entries, rows(board, marked=False)):
        found = board.comparisons.get(entry.name)
        cells = row + [("yes" if found.significant[t] else "no") if found else "" for t in board.tests]
        writer.writerow([escape.csv_cell(c) for c in cells])
    return buffer.getvalue()


LATEX_MARKERS = {"†": "$^{\\dagger}$", "‡": "$^{\\ddagger}$", "Δ": "$\\Delta$"}


def _tex(text: Any) -> str:
    out = escape.latex(text)
    for mark, command in LATEX_MARKERS.items():
        out = out.replace(mark, command)
    return out


def latex(board: Leaderboard) -> str:
    """A tabular; markers become daggers (tabulate's own latex escaping would mangle them)."""
    return _table(board, _tex, "latex_raw") + "\n% " + escape.one_line(board.legend()) + "\n"


def write(board: Leaderboard, fmt: str) -> str:
    writers = {"table": terminal, "markdown": markdown, "csv": to_csv, "latex": latex}
    return writers[fmt](board)
