"""QA data: the generic JSONL format, its errors, HaluEval and qa-jsonl registration."""

import json
from pathlib import Path

import pytest

from harness.data import datasets
from harness.errors import DataError, FormatError
from harness.plugin_manager import get_plugin_manager
from harness.data.qa_data import QAQuery, read_jsonl

ITEM = {
    "id": "q1",
    "question": "Who?",
    "answers": ["Ann"],
    "gold_passages": ["Ann did it."],
    "distractors": ["Bob did not."],
    "counterfactuals": [{"id": "cf1", "text": "Carl did it."}],
}

BAD = {**ITEM, "id": "q9", "counterfactuals": []}


def write_lines(path: Path, lines) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def test_reads_generic_records(tmp_path):
    c = read_jsonl(write_lines(tmp_path / "qa.jsonl", [ITEM, {**ITEM, "id": "q2", "counterfactuals": []}]))
    assert c.queries[0] == QAQuery("q1", "Who?", ("Ann",), ("q1/gold/0",), ("cf1",))
    assert c.docs == {
        "q1/gold/0": "Ann did it.",
        "q1/distractor/0": "Bob did not.",
        "cf1": "Carl did it.",
        "q2/gold/0": "Ann did it.",
        "q2/distractor/0": "Bob did not.",
    }
    assert c.qrels["q1"] == {"q1/gold/0": 1, "q1/distractor/0": 0, "cf1": 0}


def test_counterfactual_answers_are_kept(tmp_path):
    c = read_jsonl(
        write_lines(
            tmp_path / "qa.jsonl",
            [{**ITEM, "counterfactual_answers": ["Carl"]}, {**ITEM, "id": "q2", "counterfactual_answers": []}],
        )
    )
    assert c.queries[0].counterfactual_answers == ("Carl",) and c.queries[1].counterfactual_answers == ()


@pytest.mark.parametrize(
    "bad, message",
    [
        ("{not json", "not valid JSON"),
        (json.dumps({**BAD, "counterfactual_answers": "Carl"}), "'counterfactual_answers' must be a list"),
        (json.dumps({**BAD, "counterfactual_answers": [""]}), "'counterfactual_answers' must be a list"),
        (json.dumps({**BAD, "answers": []}), "'answers' must be a non-empty list"),
        (json.dumps({k: v for k, v in BAD.items() if k != "question"}), "'question'"),
        (json.dumps({**BAD, "gold_passages": [3]}), "gold passage 0 must be a string"),
        (json.dumps({**BAD, "distractors": "x"}), "'distractors' must be a list"),
        (json.dumps(ITEM), "duplicate id 'q1'"),
        (json.dumps([1]), "expected a JSON object"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, bad, message):
    path = write_lines(tmp_path / "qa.jsonl", [ITEM, "", bad])
    with pytest.raises(FormatError, match=message) as info:
        read_jsonl(path)
    assert info.value.line_number == 3 and f"{path}:3:" in str(info.value)


def write_halueval(root: Path, n: int = 30) -> Path:
    folder = root / "halueval-qa"
    folder.mkdir(parents=True)
    rows = [
        {
            "knowledge": f"Passage {i} says the answer is word{i}.",
            "question": f"What is answer {i}?",
            "right_answer": f"word{i}",
            "hallucinated_answer": "wrong",
        }
        for i in range(n)
    ]
    write_lines(folder / "qa_one-turn_data.json", rows)
    return root


def test_halueval_registration_and_split(tmp_path):
    root = write_halueval(tmp_path / "data")
    pm = get_plugin_manager()
    split = {}
    for name in ("all", "train", "test"):
        ds = datasets.load("halueval-qa" + ("" if name == "all" else f"/{name}"), pm, root)
        split[name] = {q.query_id: q for q in ds.queries_iter()}
        assert ds.docs_count() == 30  # the whole corpus in every split: the noise pool
    assert set(split["train"]) | set(split["test"]) == set(split["all"])
    assert not set(split["train"]) & set(split["test"]) and split["test"]
    q = split["all"]["q3"]
    assert q.answers == ("word2",) and q.gold_doc_ids == ("p3",)
    ds = datasets.load("halueval-qa", pm, root)
    assert datasets.qrels(ds, "halueval-qa")["q3"] == {"p3": 1}
    assert ds.docs_store().get("p3").text == "Passage 2 says the answer is word2."


def test_halueval_split_is_stable_across_roots(tmp_path):
    pm = get_plugin_manager()
    ids = []
    for sub in ("a", "b"):
        ds = datasets.load("halueval-qa/test", pm, write_halueval(tmp_path / sub))
        ids.append([q.query_id for q in ds.queries_iter()])
    assert ids[0] == ids[1]


def test_missing_halueval_says_where(tmp_path):
    ds = datasets.load("halueval-qa/test", get_plugin_manager(), tmp_path)
    with pytest.raises(DataError, match="missing file .*qa_one-turn_data.json"):
        datasets.queries(ds, "halueval-qa/test")


def test_qa_jsonl_pattern_needs_no_code(tmp_path):
    path = write_lines(tmp_path / "mine.jsonl", [ITEM])
    ds = datasets.load(f"qa-jsonl:{path}", get_plugin_manager(), tmp_path)
    assert [q.query_id for q in ds.queries_iter()] == ["q1"]
    assert {d.doc_id for d in ds.docs_iter()} == {"q1/gold/0", "q1/distractor/0", "cf1"}


@pytest.mark.parametrize(
    "bad, message",
    [
        (json.dumps({**BAD, "id": {"a": 1}}), "key 'id' must be a string or an integer, got dict"),
        (json.dumps({**BAD, "id": None}), "key 'id' must be a string or an integer, got NoneType"),
        (json.dumps({**BAD, "id": True}), "key 'id' must be a string or an integer, got bool"),
        (json.dumps({**BAD, "id": "q 9"}), "key 'id' 'q 9' must be non-empty and hold no whitespace"),
        (json.dumps({**BAD, "answers": ["Ann", " "]}), "key 'answers' must be a non-empty list of non-empty strings"),
        (
            json.dumps({**BAD, "gold_passages": [{"id": [1], "text": "t"}]}),
            "gold passage 0: key 'id' must be a string or an integer, got list",
        ),
        (json.dumps({**BAD, "distractors": [{"text": 3}]}), "distractor passage 0 must be a string or"),
        (
            '{"id": "q9", "id": "q10", "question": "Who?", "answers": ["Ann"], "gold_passages": ["x"]}',
            "not a valid record (duplicate key 'id')",
        ),
    ],
)
def test_every_field_type_is_checked(tmp_path, bad, message):
    path = write_lines(tmp_path / "qa.jsonl", [ITEM, bad])
    with pytest.raises(FormatError) as info:
        read_jsonl(path)
    assert str(info.value).startswith(f"{path}:2: {message}")


def test_bad_utf8_names_line_and_byte_without_the_ir_datasets_hint(tmp_path):
    path = tmp_path / "qa.jsonl"
    first = json.dumps(ITEM).encode() + b"\n"
    path.write_bytes(first + b'{"question": "Wh\xe9?"}\n')
    with pytest.raises(FormatError) as info:
        read_jsonl(path)
    assert str(info.value).startswith(
        f"{path}:2: not valid UTF-8: byte 0xe9 at column 17 (byte offset {len(first) + 16} in the file)"
    )
    ds = datasets.load(f"qa-jsonl:{path}", get_plugin_manager(), tmp_path)  # through ir_datasets, as a run reads
    with pytest.raises(FormatError) as info:
        datasets.queries(ds, f"qa-jsonl:{path}")
    assert "IR_DATASETS_HOME" not in str(info.value) and f"{path}:2: not valid UTF-8" in str(info.value)


def test_empty_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match=r"qa.jsonl: no QA records in file"):
        read_jsonl(write_lines(tmp_path / "qa.jsonl", ["", " "]))


def test_unknown_keys_are_named_in_a_warning(tmp_path, caplog):
    read_jsonl(write_lines(tmp_path / "qa.jsonl", [{**ITEM, "distractor": ["typo"]}]))
    assert "keys ignored (not part of the QA format): distractor" in caplog.text
