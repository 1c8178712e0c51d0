"""Strict TREC readers (trec_eval's rules) and exact run files: the exact text of every error."""

from __future__ import annotations

import pytest

from harness.errors import DataError, FormatError
from harness.data.trec_io import format_run, read_qrels, read_run, write_run

RUN = "q1 Q0 d1 1 2.5 t\nq1 Q0 d2 2 1.5 t\nq2 Q0 d1 1 0.25 t\n"


def written(tmp_path, text: str | bytes, name: str = "run.trec"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def error_of(reader, path) -> str:
    with pytest.raises(DataError) as info:
        reader(path)
    return str(info.value)


def test_reads_both_widths(tmp_path):
    assert read_run(written(tmp_path, RUN)) == {"q1": {"d1": 2.5, "d2": 1.5}, "q2": {"d1": 0.25}}
    assert read_run(written(tmp_path, "q1 d1 2.5\nq1 d2 -1e-3\n")) == {"q1": {"d1": 2.5, "d2": -0.001}}


@pytest.mark.parametrize(
    "text, message",
    [
        (
            RUN + "q1 Q0 d1 3 0.5 t\n",
            "4: duplicate scored document for query 'q1', document 'd1': first on line 1 (trec_eval refuses duplicates)",
        ),
        ("q1 Q0 d1 1 nan t\n", "1: score 'nan' is not a finite number"),
        ("q1 Q0 d1 1 -inf t\n", "1: score '-inf' is not a finite number"),
        ("q1 Q0 d1 1 1e999 t\n", "1: score '1e999' is too large for a double"),
        ("q1 Q0 d1 1 1_0 t\n", "1: score '1_0' is not a plain decimal number"),
        ("q1 Q0 d1 1 high t\n", "1: score 'high' is not a number"),
        (
            RUN + "q3 Q0 d7\n",
            "4: 3 columns where line 1 has 6: a run file has one format throughout "
            "('qid Q0 docid rank score tag', or 'qid docid score' on every line)",
        ),
        ("q1 d1 2.5\nq1 Q0 d2 2 1.5 t\n", "2: 6 columns where line 1 has 3: a run file has one format throughout"),
        ("q1 Q0 17\n", "1: document id 'Q0' in a 3-column line: is it a 6-column line 'qid Q0 docid rank score tag' cut short?"),
        (
            "q1 Q0 d1 1 2.5\n",
            "1: expected 6 columns 'qid Q0 docid rank score tag' (or 3 on every line: 'qid docid score'), got 5",
        ),
    ],
)
def test_run_file_errors(tmp_path, text, message):
    path = written(tmp_path, text)
    assert error_of(read_run, path).startswith(f"{path}:{message}")


def test_a_run_error_shows_the_line(tmp_path):
    path = written(tmp_path, "q1 Q0 d1 1 nan t\n")
    assert error_of(read_run, path) == f"{path}:1: score 'nan' is not a finite number\n    'q1 Q0 d1 1 nan t'"


@pytest.mark.parametrize("text", ["", "\n  \n\t\n"])
def test_empty_files_are_errors(tmp_path, text):
    path = written(tmp_path, text)
    assert error_of(read_run, path) == f"{path}: empty file: no scored document lines"
    assert error_of(read_qrels, path) == f"{path}: empty file: no judgment lines"


@pytest.mark.parametrize(
    "text, message",
    [
        ("q1 0 d1 1\nq1 0 d1 2\n", "2: duplicate judgment for query 'q1', document 'd1': first on line 1"),
        ("q1 0 d1 1.0\n", "1: relevance '1.0' is not an integer"),
        ("q1 0 d1\n", "1: expected 4 columns 'qid Q0 docid relevance', got 3"),
        ("q1 0 d1 1 x\n", "1: expected 4 columns 'qid Q0 docid relevance', got 5"),
    ],
)
def test_qrels_errors(tmp_path, text, message):
    path = written(tmp_path, text, "qrels.txt")
    assert error_of(read_qrels, path).startswith(f"{path}:{message}")


def test_qrels_keep_negative_grades(tmp_path):
    assert read_qrels(written(tmp_path, "q1 0 d1 -1\nq1 0 d2 3\n", "qrels.txt")) == {"q1": {"d1": -1, "d2": 3}}


def test_bad_utf8_names_file_line_and_byte(tmp_path):
    path = written(tmp_path, b"q1 Q0 d1 1 2.5 t\nq1 Q0 d\xe92 2 1.5 t\n")
    assert error_of(read_run, path) == (
        f"{path}:2: not valid UTF-8: byte 0xe9 at column 8 (byte offset 24 in the file)\n    'q1 Q0 d\\\\xe92 2 1.5 t'"
    )
    qrels = written(tmp_path, b"q1 0 d1 1\n\xff\n", "qrels.txt")
    assert error_of(read_qrels, qrels).startswith(f"{qrels}:2: not valid UTF-8: byte 0xff at column 1 (byte offset 10")


def test_missing_file(tmp_path):
    assert error_of(read_run, tmp_path / "nope.trec") == f"file not found: {tmp_path / 'nope.trec'}"


def test_byte_order_mark_is_dropped(tmp_path):
    assert read_run(written(tmp_path, "\ufeff" + RUN)) == read_run(written(tmp_path, RUN, "plain.trec"))


def test_written_scores_round_trip_exactly(tmp_path):
    run = {"q1": {"a": 0.1 + 0.2, "b": 1 / 3, "c": 1e-300, "d": -2.5e17}, "q2": {"a": 7.0}}
    write_run(run, tmp_path / "run.trec")
    assert read_run(tmp_path / "run.trec") == run  # equal floats: full precision, not 6 decimals


def test_run_lines_follow_the_ranking_rule(tmp_path):
    lines = list(format_run({"q": {"d1": 1.0, "d3": 1.0, "d2": 2.0}}, "t"))
    assert lines == ["q Q0 d2 1 2.0 t\n", "q Q0 d3 2 1.0 t\n", "q Q0 d1 3 1.0 t\n"]  # ties: doc id descending


@pytest.mark.parametrize(
    "run, message",
    [
        ({"q": {"d": float("nan")}}, "run file: score nan of document 'd' for query 'q' is not a finite number"),
        (
            {"q": {"d e": 1.0}},
            "run file: document id (query 'q') 'd e' cannot be written: a TREC column is a non-empty string without whitespace",
        ),
        ({"": {"d": 1.0}}, "run file: query id '' cannot be written"),
    ],
)
def test_unwritable_runs_are_refused_and_leave_no_file(tmp_path, run, message):
    with pytest.raises(DataError) as info:
        write_run(run, tmp_path / "run.trec")
    assert str(info.value).startswith(message)
    assert list(tmp_path.iterdir()) == []  # no run file, no temporary file


def test_format_error_carries_path_and_line(tmp_path):
    path = written(tmp_path, RUN + "bad\n")
    with pytest.raises(FormatError) as info:
        read_run(path)
    assert (info.value.path, info.value.line_number) == (str(path), 4)
