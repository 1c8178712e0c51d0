"""Property-based tests of every reader: run files (both widths), qrels and QA JSONL.

Valid input round-trips exactly (write -> read -> equal, scores in full
precision). Corrupted input (a byte flipped or invalid UTF-8, a line cut short,
a column dropped or doubled, a line repeated) gives the harness's own error
naming file and line, or (where the corruption left a valid file) a result:
never another exception.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.errors import FormatError, HarnessError
from harness.data.qa_data import read_jsonl
from harness.data.trec_io import read_qrels, read_run, write_run

BOUNDED = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

# One TREC column: printable, no whitespace (Python's split() counts Cc, Zs, Zl, Zp as whitespace).
TOKEN = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="\ufeff"), min_size=1, max_size=6
)
SCORE = st.floats(allow_nan=False, allow_infinity=False)
RUNS = st.dictionaries(
    TOKEN, st.dictionaries(TOKEN.filter(lambda d: d != "Q0"), SCORE, min_size=1, max_size=5), min_size=1, max_size=4
)
QRELS = st.dictionaries(TOKEN, st.dictionaries(TOKEN, st.integers(-3, 10**12), min_size=1, max_size=5), min_size=1, max_size=4)


def in_temp(data: bytes, read, name: str = "input.txt"):
    """``read(path)`` on a file holding ``data``; returns (path, result or the exception raised)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return str(path), read(path)
        except Exception as exc:  # the property decides which kinds are allowed
            return str(path), exc


def three_columns(run) -> bytes:
    return "".join(f"{q} {d} {s!r}\n" for q, docs in run.items() for d, s in docs.items()).encode()


def six_columns(run) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        write_run(run, Path(folder) / "run.trec", tag="t")
        return (Path(folder) / "run.trec").read_bytes()


def qrels_text(qrels) -> bytes:
    return "".join(f"{q} 0 {d} {g}\n" for q, docs in qrels.items() for d, g in docs.items()).encode()


# --- corruption -------------------------------------------------------------------------------


def drop_column(cols: list[bytes], i: int) -> list[bytes]:
    return cols[:i] + cols[i + 1 :]


def double_column(cols: list[bytes], i: int) -> list[bytes]:
    return cols[: i + 1] + cols[i:]


@st.composite
def column_damage(draw, data: bytes):
    """(damaged bytes, the 1-based line whose width changed): always detectable in a TREC file."""
    lines = data.split(b"\n")[:-1]
    number = draw(st.integers(0, len(lines) - 1))
    cols = lines[number].split(b" ")
    change = draw(st.sampled_from([drop_column, double_column]))
    lines[number] = b" ".join(change(cols, draw(st.integers(0, len(cols) - 1))))
    return b"\n".join(lines) + b"\n", number + 1


@st.composite
def invalid_utf8(draw, data: bytes):
    """(bytes with an invalid UTF-8 byte inserted, its 1-based line)."""
    position = draw(st.integers(0, len(data) - 1))
    bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80"]))
    return data[:position] + bad + data[position:], data[:position].count(b"\n") + 1


@st.composite
def repeated_line(draw, data: bytes):
    lines = data.split(b"\n")[:-1]
    return data + lines[draw(st.integers(0, len(lines) - 1))] + b"\n", len(lines) + 1


@st.composite
def any_damage(draw, data: bytes) -> bytes:
    """A byte flipped, or a line cut short: may or may not leave a valid file."""
    position = draw(st.integers(0, len(data) - 1))
    if draw(st.booleans()):
        return data[:position] + bytes([draw(st.integers(0, 255))]) + data[position + 1 :]
    end = data.find(b"\n", position)
    return data[:position] + (data[end:] if end >= 0 else b"")


def assert_names_line(path: str, outcome, line: int) -> None:
    assert isinstance(outcome, FormatError), repr(outcome)
    assert outcome.path == path and outcome.line_number == line and str(outcome).startswith(f"{path}:{line}: ")


def assert_harness_error_or_result(path: str, outcome) -> None:
    if isinstance(outcome, Exception):
        assert isinstance(outcome, HarnessError), repr(outcome)
        assert path in str(outcome)
        if isinstance(outcome, FormatError):
            assert outcome.line_number >= 1


# --- run files --------------------------------------------------------------------------------


@BOUNDED
@given(RUNS)
def test_run_files_round_trip_in_both_widths(run):
    for data in (six_columns(run), three_columns(run)):
        _, result = in_temp(data, read_run)
        assert result == run  # float ==: every score exact


@BOUNDED
@given(st.data(), RUNS, st.sampled_from([six_columns, three_columns]))
def test_run_file_damage_names_the_line(data, run, width):
    damage = data.draw(st.sampled_from([column_damage, invalid_utf8, repeated_line]))
    damaged, line = data.draw(damage(width(run)))
    assert_names_line(*in_temp(damaged, read_run), line)


@BOUNDED
@given(st.data(), RUNS, st.sampled_from([six_columns, three_columns]))
def test_run_file_corruption_is_a_harness_error_or_a_run(data, run, width):
    path, outcome = in_temp(data.draw(any_damage(width(run))), read_run)
    assert_harness_error_or_result(path, outcome)


# --- qrels ------------------------------------------------------------------------------------


@BOUNDED
@given(QRELS)
def test_qrels_round_trip(qrels):
    assert in_temp(qrels_text(qrels), read_qrels)[1] == qrels


@BOUNDED
@given(st.data(), QRELS)
def test_qrels_damage_names_the_line(data, qrels):
    damage = data.draw(st.sampled_from([column_damage, invalid_utf8, repeated_line]))
    damaged, line = data.draw(damage(qrels_text(qrels)))
    assert_names_line(*in_temp(damaged, read_qrels), line)


@BOUNDED
@given(st.data(), QRELS)
def test_qrels_corruption_is_a_harness_error_or_qrels(data, qrels):
    path, outcome = in_temp(data.draw(any_damage(qrels_text(qrels))), read_qrels)
    assert_harness_error_or_result(path, outcome)


# --- QA JSONL ---------------------------------------------------------------------------------

TEXT = st.text(min_size=1, max_size=20).filter(str.strip)
PASSAGE = st.one_of(st.text(max_size=20), st.fixed_dictionaries({"text": st.text(max_size=20)}))


@st.composite
def qa_records(draw) -> list[dict]:
    """Records with unique ids (strings, integers or the line number); passages with or without ids."""
    records = []
    ids = draw(st.lists(st.one_of(TOKEN, st.integers(0, 10**6), st.none()), min_size=1, max_size=4))
    effective = [str(line if qid is None else qid) for line, qid in enumerate(ids, start=1)]
    assume(len(set(effective)) == len(effective))  # no record's id is another's (or its line number)
    for number, qid in enumerate(ids):
        record = {
            "question": draw(TEXT),
            "answers": draw(st.lists(TEXT, min_size=1, max_size=3)),
            "gold_passages": draw(st.lists(PASSAGE, min_size=1, max_size=3)),
            "distractors": draw(st.lists(PASSAGE, max_size=2)),
        }
        if qid is not None:
            record["id"] = qid
        for role, key in (("gold", "gold_passages"), ("distractor", "distractors")):
            for index, passage in enumerate(record[key]):
                if isinstance(passage, dict):  # explicit ids, unique across the file
                    passage["id"] = f"p{number}-{role}-{index}"
        records.append(record)
    return records


def expected(records: list[dict]) -> tuple:
    queries, docs = [], {}
    for line_no, record in enumerate(records, start=1):
        qid = str(record.get("id", line_no))
        ids = {}
        for key, role in (("gold_passages", "gold"), ("distractors", "distractor")):
            ids[role] = []
            for index, passage in enumerate(record[key]):
                doc_id = passage["id"] if isinstance(passage, dict) else f"{qid}/{role}/{index}"
                docs[doc_id] = passage["text"] if isinstance(passage, dict) else passage
                ids[role].append(doc_id)
        queries.append((qid, record["question"], tuple(record["answers"]), tuple(ids["gold"])))
    return queries, docs


def jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


@BOUNDED
@given(qa_records())
def test_qa_jsonl_round_trips(records):
    _, found = in_temp(jsonl(records), read_jsonl, "qa.jsonl")
    assert not isinstance(found, Exception), repr(found)
    queries = [(q.query_id, q.text, q.answers, q.gold_doc_ids) for q in found.queries]
    assert (queries, found.docs) == expected(records)


@st.composite
def cut_line(draw, data: bytes):
    """(a JSON line cut before its closing brace, its 1-based line): never valid JSON."""
    lines = data.split(b"\n")[:-1]
    number = draw(st.integers(0, len(lines) - 1))
    lines[number] = lines[number][: draw(st.integers(1, len(lines[number]) - 1))]  # still begins with '{'
    return b"\n".join(lines) + b"\n", number + 1


@BOUNDED
@given(st.data(), qa_records())
def test_qa_jsonl_damage_names_the_line(data, records):
    damaged, line = data.draw(data.draw(st.sampled_from([invalid_utf8, cut_line]))(jsonl(records)))
    assert_names_line(*in_temp(damaged, read_jsonl, "qa.jsonl"), line)


@BOUNDED
@given(st.data(), qa_records())
def test_qa_jsonl_corruption_is_a_harness_error_or_records(data, records):
    path, outcome = in_temp(data.draw(any_damage(jsonl(records))), read_jsonl, "qa.jsonl")
    assert_harness_error_or_result(path, outcome)
