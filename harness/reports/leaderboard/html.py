"""The leaderboard as one static HTML page: a sortable table and the figures, no external files."""

from __future__ import annotations

import base64
import html

from harness.reports.leaderboard.board import Leaderboard
from harness.reports.leaderboard.plots import all_plots
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
    """What a cell sorts by: its number without markers or separators, else its text."""
    raw = str(text).rstrip("†‡").replace(",", "")
    try:
        return repr(float(raw))
    except ValueError:
        return str(text)


def table(board: Leaderboard) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header(board))
    body = "".join("<tr>" + "".join(_cell(c, _sort_value(c)) for c in row) + "</tr>" for row in rows(board))
    return f'<table class="leaderboard"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def page(board: Leaderboard, title: str = "Leaderboard") -> str:
    figures = "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        f"<figcaption>{html.escape(name)}</figcaption></figure>" for name, png in all_plots(board).items())
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{table(board)}"
            f"<p class='legend'>{html.escape(board.legend())}</p><section class='plots'>{figures}</section>"
            f"<script>{SORT_SCRIPT}</script></body></html>")
