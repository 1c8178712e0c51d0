"""Cells of the written leaderboards, escaped so that a name shows as itself and does nothing else.

Entry names come from MLflow run names and ``--run-file PATH=NAME``: anything a
user (or a shared tracking server) typed. In Markdown a raw ``<script>`` is
live HTML and a ``|`` splits the row; in a spreadsheet a cell that begins with
``=`` is a formula; in LaTeX ``_`` or ``&`` break the table. The HTML page
escapes through :func:`html.escape`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

MARKDOWN_BACKSLASHED = set("\\`*_[]|~$")
MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
LATEX = {
    **{c: "\\" + c for c in "&%$#_{}"},
    "\\": r"\textbackslash{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
# What a spreadsheet reads as the start of a formula (OWASP's list: = + - @, tab, carriage return).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf")


def one_line(value: Any) -> str:
    """The text on one line, control characters shown as escapes (no terminal codes, no row breaks)."""
    text = " ".join(str(value).splitlines())
    return "".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c for c in text)


def markdown(value: Any) -> str:
    out = []
    for char in one_line(value):
        out.append("\\" + char if char in MARKDOWN_BACKSLASHED else MARKDOWN_ENTITIES.get(char, char))
    return "".join(out)


def latex(value: Any) -> str:
    return "".join(LATEX.get(char, char) for char in one_line(value))


def csv_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading quote; numbers stay numbers."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START) or NUMBER.fullmatch(value):
        return value
    return "'" + value


def plot_label(value: Any) -> str:
    """Text for a matplotlib label: a '$' pair would be parsed as mathtext (a bad one raises)."""
    return one_line(value).replace("$", r"\$")
