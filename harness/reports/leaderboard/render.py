"""A leaderboard as rows, then as a terminal table, Markdown, CSV or LaTeX; several boards as sections."""

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


def _interval(bounds: Optional[tuple[float, float]]) -> str:
    return "" if bounds is None else f"[{bounds[0]:.4f}, {bounds[1]:.4f}]"


def header(board: Leaderboard) -> list[str]:
    cols = [
        "rank",
        "system",
        board.metric,
        "95% CI",
        *board.metrics[1:],
        "judged@10",
        f"Δ {board.metric}",
        "Δ 95% CI",
        "W/T/L",
        "d",
    ]
    cols += [f"p ({t})" for t in board.options.tests] + ["latency s", "trainable params", "source"]
    return cols


def rows(board: Leaderboard, marked: bool = True) -> list[list[Any]]:
    """Raw values (floats or None) beside text; ``marked`` appends significance markers to the metric."""
    out = []
    for rank, entry in enumerate(board.entries, start=1):
        found = board.comparisons.get(entry.name)
        score = _number(entry.mean[board.metric]) + (board.markers(entry.name) if marked else "")
        row = [
            rank,
            entry.name + (" (baseline)" if entry.name == board.baseline else ""),
            score,
            _interval(board.intervals.get(entry.name)),
        ]
        row += [_number(entry.mean[m]) for m in board.metrics[1:]] + [_number(board.judged(entry))]
        row += (
            [_number(found.delta), _interval(found.interval), "/".join(map(str, found.wtl)), _number(found.effect_size, 2)]
            if found
            else ["", "", "", ""]
        )
        row += [board.p_text(t, found.p_corrected[t]) if found else "" for t in board.options.tests]
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
    return "\n".join(
        [escape.one_line(board.baseline_line()), _table(board, escape.one_line, "simple"), escape.one_line(board.legend())]
    )


def markdown(board: Leaderboard) -> str:
    return (
        escape.markdown(board.baseline_line())
        + "\n\n"
        + _table(board, escape.markdown, "github")
        + "\n\n"
        + escape.markdown(board.legend())
        + "\n"
    )


CSV_EXTRA = ["95% CI low", "95% CI high", "Δ 95% CI low", "Δ 95% CI high", "dataset", "baseline rule"]


def _csv_header(board: Leaderboard) -> list[str]:
    return header(board) + [f"significant ({t})" for t in board.options.tests] + CSV_EXTRA


def _csv_rows(board: Leaderboard) -> list[list[Any]]:
    """The table's cells, then 'significant (test)' per test, then the intervals as plain numbers."""
    out = []
    for entry, row in zip(board.entries, rows(board, marked=False)):
        found = board.comparisons.get(entry.name)
        own = board.intervals.get(entry.name, (None, None))
        delta = found.interval if found else (None, None)
        out.append(
            row
            + [("yes" if found.significant[t] else "no") if found else "" for t in board.options.tests]
            + [_number(v) for v in (*own, *delta)]
            + [board.dataset, board.baseline_reason]
        )
    return out


def to_csv(board: Leaderboard, boards: Optional[list[Leaderboard]] = None) -> str:
    """Unmarked numbers plus one 'significant (test)' column per test, for spreadsheets; several boards
    (one per dataset) as rows of one file, told apart by the 'dataset' column (columns: their union)."""
    boards = boards or [board]
    columns = list(dict.fromkeys(c for one in boards for c in _csv_header(one)))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape.csv_cell(c) for c in columns])
    for one in boards:
        for cells in _csv_rows(one):
            by_column = dict(zip(_csv_header(one), cells))
            writer.writerow([escape.csv_cell(by_column.get(c, "")) for c in columns])
    return buffer.getvalue()


LATEX_MARKERS = {"†": "$^{\\dagger}$", "‡": "$^{\\ddagger}$", "Δ": "$\\Delta$"}


def _tex(text: Any) -> str:
    out = escape.latex(text)
    for mark, command in LATEX_MARKERS.items():
        out = out.replace(mark, command)
    return out


def latex(board: Leaderboard) -> str:
    """A tabular; markers become daggers (tabulate's own latex escaping would mangle them)."""
    return (
        "% "
        + escape.one_line(board.baseline_line())
        + "\n"
        + _table(board, _tex, "latex_raw")
        + "\n% "
        + escape.one_line(board.legend())
        + "\n"
    )


def write(board: Leaderboard, fmt: str) -> str:
    writers = {"table": terminal, "markdown": markdown, "csv": to_csv, "latex": latex}
    return writers[fmt](board)


HEADINGS = {
    "table": lambda d: f"== dataset: {escape.one_line(d)} ==",
    "markdown": lambda d: f"## {escape.markdown(d)}",
    "latex": lambda d: f"\\paragraph{{{escape.latex(d)}}}",
}


def write_all(boards: list[Leaderboard], fmt: str) -> str:
    """One board as :func:`write`; several (one per dataset) as sections, each under its dataset's heading."""
    if len(boards) == 1:
        return write(boards[0], fmt)
    if fmt == "csv":
        return to_csv(boards[0], boards)
    return "\n\n".join(f"{HEADINGS[fmt](b.dataset)}\n\n{write(b, fmt)}".rstrip("\n") for b in boards) + "\n"
