"""TREC SGML documents and TREC topics, read strictly with file:line errors.

Documents: each ``<DOC>..</DOC>`` holds one ``<DOCNO>`` (the id). Its fields
become two texts, in file order:

- ``title``: the fields TITLE, HEADLINE, HEAD, HL and TTL, joined;
- ``text``: every other field (TEXT, DATE, LP, LEADPARA, BYLINE, ...) and any
  text outside a field, joined; the metadata fields DOCNO, DOCID, DOCHDR,
  FILEID, FIRST, SECOND and PARENT are left out.

Tags inside a field (``<P>``) are removed, entities (``&amp;``) decoded and
whitespace collapsed. Retrievers index ``title text`` (``FileDoc.default_text``).

Topics: each ``<top>..</top>`` holds ``<num>`` (``Number: 401``) and some of
``<title>``, ``<desc>`` (``Description:``) and ``<narr>`` (``Narrative:``);
a field runs to the next one (closing tags optional), its label is dropped.
The query text is the title by default (``dataset.query_field``: title, desc,
narr or title+desc).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Iterator

from harness.errors import FormatError
from harness.data.file_formats import FileDoc, FileQuery
from harness.data.text_lines import numbered_lines

TITLE_FIELDS = frozenset({"TITLE", "HEADLINE", "HEAD", "HL", "TTL"})
METADATA_FIELDS = frozenset({"DOCNO", "DOCID", "DOCHDR", "FILEID", "FIRST", "SECOND", "PARENT"})
QUERY_FIELDS = ("title", "desc", "narr", "title+desc")
_FIELD = re.compile(r"<([A-Za-z][\w.-]*)(?:\s[^>]*)?>(.*?)</\1\s*>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_KNOWN_OPEN = re.compile(r"<(DOCNO|TEXT|TITLE|HEADLINE|HEAD|HL|TTL)(?:\s[^>]*)?>", re.I)
_TOPIC_FIELD = re.compile(r"<(num|title|desc|narr)(?:\s[^>]*)?>", re.I)
_TOPIC_CLOSE = re.compile(r"</(num|title|desc|narr)\s*>", re.I)
_LABELS = {"num": "number:", "title": "topic:", "desc": "description:", "narr": "narrative:"}


def blocks(path: Path, tag: str) -> Iterator[tuple[int, str]]:
    """``(line of <tag>, text inside)`` of every ``<tag>..</tag>``; text outside them is refused."""
    token = re.compile(rf"<{tag}(?:\s[^>]*)?>|</{tag}\s*>", re.I)
    start: int | None = None
    parts: list[str] = []
    for number, line in numbered_lines(path):
        pos = 0
        for match in token.finditer(line):
            before, closing = line[pos : match.start()], match.group().startswith("</")
            if start is None:
                _outside(path, number, line, before, tag)
                if closing:
                    raise FormatError(path, number, f"</{tag}> without an opening <{tag}>", line)
                start, parts = number, []
            else:
                if not closing:
                    raise FormatError(
                        path, number, f"<{tag}> inside the <{tag}> opened on line {start} (a missing </{tag}>?)", line
                    )
                parts.append(before)
                yield start, "".join(parts)
                start = None
            pos = match.end()
        if start is None:
            _outside(path, number, line, line[pos:], tag)
        else:
            parts.append(line[pos:])
    if start is not None:
        raise FormatError(path, start, f"<{tag}> opened here is never closed by </{tag}>")


def _outside(path: Path, number: int, line: str, text: str, tag: str) -> None:
    if text.strip():
        raise FormatError(path, number, f"text outside <{tag}>..</{tag}>: expected only <{tag}> blocks in this file", line)


def clean(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def read_trec_docs(path: Path) -> Iterator[tuple[int, FileDoc]]:
    for start, body in blocks(path, "DOC"):
        yield start, _doc(path, start, body)


def _doc(path: Path, start: int, body: str) -> FileDoc:
    ids, title, text, pos = [], [], [], 0
    for match in _FIELD.finditer(body):
        text.append(body[pos : match.start()])
        name, value = match.group(1).upper(), match.group(2)
        if name == "DOCNO":
            ids.append(clean(value))
        elif name in TITLE_FIELDS:
            title.append(value)
        elif name not in METADATA_FIELDS:
            text.append(value)
        pos = match.end()
    text.append(body[pos:])
    unclosed = _KNOWN_OPEN.search("".join(text))
    if unclosed:
        raise FormatError(path, start, f"document starting here: <{unclosed.group(1)}> is never closed")
    if len(ids) != 1 or ids[0].split() != [ids[0]]:
        found = "no <DOCNO>" if not ids else f"<DOCNO> values {ids}"
        raise FormatError(
            path, start, f"document starting here has {found}: expected one <DOCNO>id</DOCNO> (an id without whitespace)"
        )
    return FileDoc(ids[0], clean(" ".join(text)), clean(" ".join(title)))


def read_trec_topics(path: Path, field: str = "title") -> Iterator[tuple[int, FileQuery]]:
    if field not in QUERY_FIELDS:
        raise FormatError(path, 1, f"dataset.query_field={field!r}: expected one of {', '.join(QUERY_FIELDS)}")
    for start, body in blocks(path, "top"):
        values = _topic_fields(path, start, body)
        number = values.get("num", "")
        if number.split() != [number]:
            raise FormatError(
                path, start, f"topic starting here: <num> {number!r} is not one topic number (expected '<num> Number: 401')"
            )
        wanted = field.split("+")
        missing = [f for f in wanted if not values.get(f)]
        if missing:
            raise FormatError(path, start, f"topic {number}: no text in <{missing[0]}> (dataset.query_field={field})")
        yield start, FileQuery(number, " ".join(values[f] for f in wanted))


def _topic_fields(path: Path, start: int, body: str) -> dict[str, str]:
    body = _TOPIC_CLOSE.sub(" ", body)
    marks = list(_TOPIC_FIELD.finditer(body))
    values: dict[str, str] = {}
    for i, mark in enumerate(marks):
        name = mark.group(1).lower()
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        value = clean(body[mark.end() : end])
        if value.lower().startswith(_LABELS[name]):
            value = value[len(_LABELS[name]) :].strip()
        if name in values:
            raise FormatError(path, start, f"topic starting here has two <{name}> fields")
        values[name] = value
    return values
