"""The leaderboard as one static HTML page: a sortable table and the figures, no external files."""

from __future__ import annotations

import base64
import html

from harness.reports.leaderboard.board import Leaderboard
from harness.reports.leaderboard.plots import all_plots, notes
from harness.reports.leaderboard.render import header, rows

# Click a header to sort by it (numbers as numbers, blanks last); again to reverse.
SORT_SCRIPT = """
document.querySelectorAll('table.leaderboard th').forEach((th, col) => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0];
  const asc = th.getAttribute('aria-sort') !== 'ascending';
  th.closest('tr').querySelectorAll('th').forEach(h => h.removeAttribute('aria-sort'));
  th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
  const key = tr => { const v = tr.cells[col].dataset.value; const n = parseFloat(v);
                      return v === '' ? null : (isNaN(n) ? v : n); };
  const rows = Array.from(body.rows).sort((a, b) => {
    const x = key(a), y = key(b);
    if (x === null || y === null) return (x === null) - (y === null);
    const c = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
    return asc ? c : -c; });
  rows.forEach(r => body.appendChild(r));
}));
"""
STYLE = """body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right} td:nth-child(2),th:nth-child(2){text-align:left}
th{cursor:pointer;background:#f3f3f3} th[aria-sort=ascending]::after{content:' ▲'}
th[aria-sort=descending]::after{content:' ▼'} figure{display:inline-block;margin:1em}"""


def _cell(text, value) -> str:
    return f'<td data-value="{html.escape(str(value), quote=True)}">{html.escape(str(text))}</td>'


def _sort_value(text) -> str:
    """What a cell sorts by: its number without markers or separators, else its text. An interval sorts
    by its lower bound, W/T/L by its wins, '< 0.001' as 0."""
    raw = str(text).rstrip("†‡")
    if raw.startswith("< "):
        raw = "0"
    elif raw.startswith("[") or "/" in raw:
        raw = raw.lstrip("[").split(",")[0].split("/")[0]
    raw = raw.replace(",", "")
    try:
        return repr(float(raw))
    except ValueError:
        return str(text)


def table(board: Leaderboard) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header(board))
    body = "".join("<tr>" + "".join(_cell(c, _sort_value(c)) for c in row) + "</tr>" for row in rows(board))
    return f'<table class="leaderboard"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def section(board: Leaderboard) -> str:
    figures = "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        f"<figcaption>{html.escape(name)}</figcaption></figure>"
        for name, png in all_plots(board).items()
    )
    left_out = "".join(f"<p class='note'>{html.escape(note)}</p>" for note in notes(board))
    return (
        f"<section class='board' data-dataset='{html.escape(board.dataset, quote=True)}'>"
        f"<h2>{html.escape(board.dataset or 'leaderboard')}</h2>"
        f"<p class='baseline'>{html.escape(board.baseline_line())}</p>{table(board)}"
        f"<p class='legend'>{html.escape(board.legend())}</p>{left_out}"
        f"<section class='plots'>{figures}</section></section>"
    )


def page(board: Leaderboard | list[Leaderboard], title: str = "Leaderboard") -> str:
    """A board, or several (one per dataset) as sections of one page."""
    boards = board if isinstance(board, list) else [board]
    body = "".join(section(one) for one in boards)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}"
        f"<script>{SORT_SCRIPT}</script></body></html>"
    )
