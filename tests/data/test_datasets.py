"""Dataset registration through ir_datasets' own API, on tiny data and the real files."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.data import datasets
from harness.errors import DataError, FormatError
from harness.plugin_manager import get_plugin_manager

from tiny_data import PASSAGES, QRELS, TOPICS


def load(dataset_id, root):
    return datasets.load(dataset_id, get_plugin_manager(), root)


def test_mini_registration_gives_docs_queries_qrels_scoreddocs(tiny_root):
    ds = load("msmarco-passage-mini/trec-dl-2019", tiny_root)
    docs = list(ds.docs_iter())
    assert len(docs) == len(PASSAGES)
    assert (docs[3].doc_id, docs[3].text) == ("4", PASSAGES["4"])  # golden record at a fixed position
    assert ds.docs_store().get("8").text == PASSAGES["8"]
    assert [(q.query_id, q.text) for q in ds.queries_iter()] == list(TOPICS.items())
    qrels = list(ds.qrels_iter())
    assert len(qrels) == len(QRELS) and (qrels[0].query_id, qrels[0].doc_id, qrels[0].relevance) == ("101", "4", 3)
    assert ds.qrels_defs()[2].startswith("Highly relevant")  # TREC DL's graded definitions
    first = next(iter(ds.scoreddocs_iter()))
    assert (first.query_id, first.doc_id, first.score) == ("101", "1", 12.0)


def test_judged_subset_keeps_only_judged_queries(tiny_root):
    ds = load("msmarco-passage-mini/trec-dl-2020/judged", tiny_root)
    assert {q.query_id for q in ds.queries_iter()} == {"101", "102", "103", "104"}


def test_docstore_is_not_written_beside_the_source(tiny_root):
    ds = load("msmarco-passage-mini/trec-dl-2019", tiny_root)
    ds.docs_store().get("1")
    assert sorted(p.name for p in (tiny_root / "msmarco-passage-mini").iterdir()) == sorted(
        [
            "collection.tsv",
            "topics.dl19-passage.txt",
            "topics.dl20.txt",
            "qrels.dl19-passage.txt",
            "qrels.dl20-passage.txt",
            "run.dl19.bm25-top100.trec",
            "run.dl20.bm25-top100.trec",
        ]
    )


def test_missing_data_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("IR_DATASETS_HOME", str(tmp_path / "irds"))
    ds = load("msmarco-passage-mini/trec-dl-2019", tmp_path / "empty")
    with pytest.raises(DataError) as err:
        datasets.qrels(ds, "msmarco-passage-mini/trec-dl-2019")
    message = str(err.value)
    assert str(tmp_path / "empty" / "msmarco-passage-mini" / "qrels.dl19-passage.txt") in message
    assert "HARNESS_DATA_ROOT" in message and "Get it" in message


def test_malformed_qrels_line_names_file_and_line(tiny_root):
    path = tiny_root / "msmarco-passage-mini" / "qrels.dl19-passage.txt"
    lines = path.read_text().splitlines()
    lines[2] = "101 0 2"  # a column missing on line 3
    path.write_text("\n".join(lines) + "\n")
    ds = load("msmarco-passage-mini/trec-dl-2019", tiny_root)
    with pytest.raises(FormatError, match=rf"{path}:3: expected 4 columns"):
        datasets.qrels(ds, "msmarco-passage-mini/trec-dl-2019")


def test_non_integer_relevance_names_file_and_line(tiny_root):
    path = tiny_root / "msmarco-passage-mini" / "qrels.dl20-passage.txt"
    path.write_text(path.read_text() + "999 0 1 high\n")
    ds = load("msmarco-passage-mini/trec-dl-2020", tiny_root)
    with pytest.raises(FormatError, match=rf":{len(QRELS) + 1}: relevance 'high' is not an integer"):
        datasets.qrels(ds, "msmarco-passage-mini/trec-dl-2020")


def test_unknown_dataset_id(tiny_root):
    with pytest.raises(DataError, match="unknown dataset id 'no-such/dataset'.*msmarco-passage-mini/trec-dl-2019"):
        load("no-such/dataset", tiny_root)


def test_changing_the_data_root_re_registers(tmp_path, tiny_root):
    other = tmp_path / "other"
    shutil.copytree(tiny_root, other)
    (other / "msmarco-passage-mini" / "topics.dl19-passage.txt").write_text("7\tonly one query\n")
    assert len(list(load("msmarco-passage-mini/trec-dl-2019", other).queries_iter())) == 1
    assert len(list(load("msmarco-passage-mini/trec-dl-2019", tiny_root).queries_iter())) == len(TOPICS)


STANDARD_ID = """
import ir_datasets
ds = ir_datasets.load("msmarco-passage/trec-dl-2019")
queries = list(ds.queries_iter())
qrels = list(ds.qrels_iter())
print(len(queries), queries[0].query_id, len(qrels), qrels[0].query_id, qrels[0].relevance)
"""


@pytest.mark.slow
def test_standard_ir_datasets_id_reads_prefilled_home(tmp_path):
    """A standard id works offline when its files are already in IR_DATASETS_HOME (no download)."""
    home = tmp_path / "irds" / "msmarco-passage" / "trec-dl-2019"
    home.mkdir(parents=True)
    (home / "queries.tsv").write_text("1\tfirst query\n2\tsecond query\n")
    (home / "qrels").write_text("1 Q0 10 3\n2 Q0 11 0\n")
    env = {"IR_DATASETS_HOME": str(tmp_path / "irds"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", STANDARD_ID], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "1", "2", "1", "3"]


@pytest.mark.slow
def test_real_mini_counts_and_golden_records(real_root, tmp_path, monkeypatch):
    monkeypatch.setenv("IR_DATASETS_HOME", str(tmp_path / "irds"))
    dl19 = load("msmarco-passage-mini/trec-dl-2019", real_root)
    assert dl19.docs_count() in (None, 31362)
    assert sum(1 for _ in dl19.queries_iter()) == 43
    assert sum(1 for _ in dl19.qrels_iter()) == 9260
    assert sum(1 for _ in dl19.scoreddocs_iter()) == 4300
    dl20 = load("msmarco-passage-mini/trec-dl-2020", real_root)
    assert sum(1 for _ in dl20.queries_iter()) == 200
    assert len(datasets.qrels(dl20, "dl20")) == 54
    first = next(iter(dl19.docs_iter()))
    assert first.doc_id.isdigit() and len(first.text) > 20


def test_default_data_root_is_beside_the_checkout(monkeypatch):
    monkeypatch.delenv("HARNESS_DATA_ROOT", raising=False)
    assert datasets.default_data_root() == Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.parametrize(
    "name, read",
    [
        ("topics.dl19-passage.txt", lambda ds: datasets.queries(ds, "msmarco-passage-mini/trec-dl-2019")),
        ("collection.tsv", lambda ds: list(ds.docs_iter())),
    ],
)
def test_bad_utf8_in_files_read_by_ir_datasets_names_file_and_line(tiny_root, name, read):
    # ir_datasets' own TSV readers decode in 8 KB chunks: without the checked stream this was a bare
    # UnicodeDecodeError wrapped in a misleading IR_DATASETS_HOME hint.
    path = tiny_root / "msmarco-passage-mini" / name
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"\t", b"\t\xff", 1)
    path.write_bytes(b"".join(lines))
    ds = load("msmarco-passage-mini/trec-dl-2019", tiny_root)
    with pytest.raises(FormatError, match=rf"{path}:3: not valid UTF-8: byte 0xff") as caught:
        read(ds)
    assert "IR_DATASETS_HOME" not in str(caught.value)


def test_a_damaged_docstore_is_rebuilt_not_served(tiny_root, tmp_path, caplog):
    ds = load("msmarco-passage-mini/trec-dl-2019", tiny_root)
    assert ds.docs_store().get("3").text == PASSAGES["3"]
    [binary] = (tmp_path / "irds" / "harness-docstores").rglob("store/bin")
    data = bytearray(binary.read_bytes())
    data[len(data) // 2] ^= 0xFF
    binary.write_bytes(bytes(data))
    with caplog.at_level("WARNING"):
        store = load("msmarco-passage-mini/trec-dl-2019", tiny_root).docs_store()
        assert {d: store.get(d).text for d in PASSAGES} == PASSAGES
    assert "msmarco-passage-mini" in caplog.text and "quarantin" in caplog.text.lower()
