"""A leaderboard as rows, then as a terminal table, Markdown, CSV or LaTeX."""

from __future__ import annotations

import csv
import io
from typing import Any, Optional

from harness.leaderboard.board import Leaderboard


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


def terminal(board: Leaderboard) -> str:
    from tabulate import tabulate

    return tabulate(rows(board), headers=header(board), tablefmt="simple") + "\n" + board.legend()


def markdown(board: Leaderboard) -> str:
    from tabulate import tabulate

    return tabulate(rows(board), headers=header(board), tablefmt="github") + "\n\n" + board.legend() + "\n"


def to_csv(board: Leaderboard) -> str:
    """Unmarked numbers plus one 'significant (test)' column per test, for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header(board) + [f"significant ({t})" for t in board.tests])
    for entry, row in zip(board.entries, rows(board, marked=False)):
        found = board.comparisons.get(entry.name)
        writer.writerow(row + [("yes" if found.significant[t] else "no") if found else "" for t in board.tests])
    return buffer.getvalue()


LATEX_SPECIALS = {c: "\\" + c for c in "&%$#_{}"}
LATEX_MARKERS = {"†": "$^{\\dagger}$", "‡": "$^{\\ddagger}$", "Δ": "$\\Delta$"}


def _tex(text: Any) -> str:
    out = "".join(LATEX_SPECIALS.get(c, c) for c in str(text))
    for mark, command in LATEX_MARKERS.items():
        out = out.replace(mark, command)
    return out


def latex(board: Leaderboard) -> str:
    """A tabular; markers become daggers (tabulate's own latex escaping would mangle them)."""
    from tabulate import tabulate

    table = tabulate([[_tex(c) for c in row] for row in rows(board)], headers=[_tex(h) for h in header(board)],
                     tablefmt="latex_raw")
    return table + "\n% " + board.legend() + "\n"


def write(board: Leaderboard, fmt: str) -> str:
    writers = {"table": terminal, "markdown": markdown, "csv": to_csv, "latex": latex}
    return writers[fmt](board)
