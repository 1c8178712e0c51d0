"""dataset=files: formats detected and read, validation errors, datasets check, a TREC collection end to end."""

import json
import logging
from pathlib import Path

import pytest
import pytrec_eval
from omegaconf import OmegaConf

from harness.data import datasets
from harness.cli import main
from harness.errors import DataError, FormatError
from harness.evaluation import evaluate
from harness.data.file_formats import FileDoc, FileQuery, detect, read_docs, read_queries
from harness.pipeline import run_experiment
from harness.plugin_manager import get_plugin_manager
from harness.data.relevance import convention
from harness.testing.hydra import compose_run_config
from harness.data.trec_io import ranked, read_run
from harness_plugins.dataset.files import files_id

TREC_DOCS = """\
<DOC>
<DOCNO> LA01 </DOCNO>
<DOCHDR>http://example.org/la01 metadata only</DOCHDR>
<HEADLINE>Cats &amp; mats</HEADLINE>
<TEXT>
<P>The cat sat on the mat.</P>
<P>Cats like warm mats.</P>
</TEXT>
</DOC>
<DOC>
<DOCNO>LA02</DOCNO>
<TEXT>Paris is the capital of France.</TEXT>
</DOC>
<DOC><DOCNO>LA03</DOCNO><TEXT>Dogs chase cats around the garden.</TEXT></DOC>
<DOC>
<DOCNO>LA04</DOCNO>
<DATE>1990</DATE>
<TEXT>The river Seine flows through Paris.</TEXT>
</DOC>
<DOC>
<DOCNO>LA05</DOCNO>
<TEXT>Mats are woven from straw.</TEXT>
</DOC>
<DOC>
<DOCNO>LA06</DOCNO>
<TEXT>France exports wine and cheese.</TEXT>
</DOC>
"""
TREC_TOPICS = """\
<top>
<num> Number: 401
<title> cat mat

<desc> Description:
Where do cats sit?

<narr> Narrative:
A relevant document says where cats sit.
</top>

<top>
<num> Number: 402
<title> paris france
<desc> Description:
What is the capital of France?
</top>

<top>
<num> Number: 403
<title> dogs garden
</top>
"""
QRELS = """\
401 0 LA01 2
401 0 LA05 1
401 0 LA03 0
401 0 LA02 -1
402 0 LA02 2
402 0 LA04 1
402 0 LA06 0
402 0 LA99 1
"""


def write(folder: Path, docs=TREC_DOCS, queries=TREC_TOPICS, qrels=QRELS, names=("docs.trec", "topics.txt", "qrels.txt")):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in zip(names, (docs, queries, qrels)):
        (folder / name).write_bytes(text.encode() if isinstance(text, str) else text)
    return [folder / name for name in names]


@pytest.fixture()
def irds_home(tmp_path, monkeypatch):
    monkeypatch.setenv("IR_DATASETS_HOME", str(tmp_path / "irds"))
    return tmp_path / "irds"


def load(paths, **options):
    dataset_id = files_id(*map(str, paths), **options)
    return dataset_id, datasets.load(dataset_id, get_plugin_manager(), Path("."))


# -- formats -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,fmt",
    [
        ("d1\tcats\n", "tsv"),
        ('{"id": "d1", "text": "cats"}\n', "jsonl"),
        ("<DOC><DOCNO>d1</DOCNO></DOC>\n", "trec"),
        ("\ufeff\n\n   <top>\n", "trec"),
        ('\n  {"_id": 1}\n', "jsonl"),
    ],
)
def test_format_is_detected_from_the_first_non_blank_character(tmp_path, text, fmt):
    (tmp_path / "f").write_text(text, encoding="utf-8")
    assert detect(tmp_path / "f", "docs", "dataset.docs") == fmt


def test_each_document_format_is_read(tmp_path):
    (tmp_path / "d.tsv").write_text("d1\tcats sit\n\nd2\tparis\tfrance\n")
    (tmp_path / "d.jsonl").write_text('{"doc_id": "d1", "text": "cats", "title": "Pets"}\n{"_id": 7, "text": "x"}\n')
    assert [d for _, d in read_docs(tmp_path / "d.tsv", "tsv")] == [FileDoc("d1", "cats sit"), FileDoc("d2", "paris\tfrance")]
    docs = [d for _, d in read_docs(tmp_path / "d.jsonl", "jsonl")]
    assert docs == [FileDoc("d1", "cats", "Pets"), FileDoc("7", "x")] and docs[0].default_text() == "Pets cats"


def test_trec_sgml_fields_title_text_and_metadata(tmp_path):
    [docs, _, _] = write(tmp_path)
    read = [(line, d) for line, d in read_docs(docs, "trec")]
    assert [line for line, _ in read] == [1, 10, 14, 15, 20, 24]  # the line of each <DOC>
    first = read[0][1]
    assert first == FileDoc("LA01", "The cat sat on the mat. Cats like warm mats.", "Cats & mats")  # DOCHDR left out
    assert read[3][1].text == "1990 The river Seine flows through Paris."  # other fields joined in file order


@pytest.mark.parametrize(
    "field,text",
    [
        ("title", "cat mat"),
        ("desc", "Where do cats sit?"),
        ("title+desc", "cat mat Where do cats sit?"),
        ("narr", "A relevant document says where cats sit."),
    ],
)
def test_trec_topics_field_is_chosen(tmp_path, field, text):
    [_, topics, _] = write(tmp_path)
    assert next(read_queries(topics, "trec", field)) == (1, FileQuery("401", text))


def test_query_tsv_and_jsonl(tmp_path):
    (tmp_path / "q.tsv").write_text("1\twhere do cats sit\n")
    (tmp_path / "q.jsonl").write_text('{"query_id": "1", "text": "where"}\n')
    assert [q for _, q in read_queries(tmp_path / "q.tsv", "tsv")] == [FileQuery("1", "where do cats sit")]
    assert [q for _, q in read_queries(tmp_path / "q.jsonl", "jsonl")] == [FileQuery("1", "where")]


def test_given_format_overrides_detection(tmp_path, irds_home):
    paths = write(
        tmp_path,
        docs="<b>\tbold\nd2\tplain\n",
        queries="401\tcat mat\n",
        qrels="401 0 <b> 1\n",
        names=("docs.txt", "topics.tsv", "qrels.txt"),
    )
    with pytest.raises(FormatError, match="text outside <DOC>"):
        list(load(paths)[1].docs_iter())  # auto reads '<' as TREC SGML
    _, dataset = load(paths, docs_format="tsv")
    assert [d.doc_id for d in dataset.docs_iter()] == ["<b>", "d2"]


# -- validation ----------------------------------------------------------------


def test_missing_file_and_unset_key_name_the_key(tmp_path, irds_home):
    docs, topics, qrels = write(tmp_path)
    with pytest.raises(DataError, match=r"dataset.queries: .*nowhere.txt not found"):
        load([docs, tmp_path / "nowhere.txt", qrels])
    cfg = OmegaConf.to_container(compose_run_config(["dataset=files", f"dataset.docs={docs}"]), resolve=True)
    with pytest.raises(DataError, match="dataset.queries is not set"):
        datasets.load(cfg["dataset"]["id"], get_plugin_manager(), Path("."))
    with pytest.raises(DataError, match=r"dataset.query_field='body': expected one of title, desc, narr, title\+desc"):
        load([docs, topics, qrels], query_field="body")


def test_relative_paths_are_read_from_the_current_directory(tmp_path, irds_home, monkeypatch):
    write(tmp_path / "collection")
    monkeypatch.chdir(tmp_path)
    cfg = compose_run_config(
        [
            "dataset=files",
            "dataset.docs=collection/docs.trec",
            "dataset.queries=collection/topics.txt",
            "dataset.qrels=collection/qrels.txt",
        ]
    )
    dataset_id = OmegaConf.to_container(cfg, resolve=True)["dataset"]["id"]
    assert f"docs={tmp_path / 'collection' / 'docs.trec'};" in dataset_id  # absolute in the id
    monkeypatch.chdir("/")
    dataset = datasets.load(dataset_id, get_plugin_manager(), Path("."))
    assert len(list(dataset.docs_iter())) == 6


@pytest.mark.parametrize(
    "which,text,message",
    [
        ("docs", "\n\n", r"dataset.docs: .*docs.trec is empty: expected documents"),
        ("queries", "", r"dataset.queries: .*topics.txt is empty: expected queries"),
        ("docs", "d1\tcats\nd2\tdogs\nd1\tagain\n", r"docs.trec:3: duplicate document id 'd1': first on line 1"),
        (
            "queries",
            "<top><num>401<title>a</top>\n\n<top><num>401<title>b</top>\n",
            r"topics.txt:3: duplicate query id '401': first on line 1",
        ),
        ("docs", b"d1\tcats\nd2\tcaf\xe9\n", r"docs.trec:2: not valid UTF-8: byte 0xe9"),
        ("docs", "<DOC>\n<DOCNO>d1</DOCNO>\n", r"docs.trec:1: <DOC> opened here is never closed"),
        ("docs", "<DOC><TEXT>no id</TEXT></DOC>\n", r"docs.trec:1: document starting here has no <DOCNO>"),
        ("queries", "<top><num>401<title>a</top>\n<top><num>402</top>\n", r"topics.txt:2: topic 402: no text in <title>"),
        ("docs", '{"id": "d1"}\n', r"docs.trec:1: key 'text': expected a string, got nothing"),
    ],
)
def test_bad_files_are_errors_naming_file_line_and_expectation(tmp_path, irds_home, which, text, message):
    paths = write(tmp_path, **{which: text}, qrels="401 0 d1 1\n")
    with pytest.raises(DataError, match=message):
        _, dataset = load(paths)
        datasets.qrels(dataset, "files")


def test_queries_matching_no_qrels_is_an_error(tmp_path, irds_home):
    paths = write(tmp_path, qrels="999 0 LA01 1\n")
    _, dataset = load(paths)
    with pytest.raises(
        DataError,
        match=r"dataset.qrels .*qrels.txt: none of its 1 judged queries \('999'\) is a "
        r"query of dataset.queries .*topics.txt \('401', '402', '403'\)",
    ):
        datasets.qrels(dataset, "files")


def test_judged_documents_not_in_the_collection_are_a_warning_with_counts(tmp_path, irds_home, caplog):
    _, dataset = load(write(tmp_path))
    with caplog.at_level(logging.WARNING):
        qrels = datasets.qrels(dataset, "files")
    assert qrels["402"]["LA99"] == 1
    assert "1 of 8 judgments (by label 1: 1) name 1 documents not in dataset.docs" in caplog.text
    assert "'LA99'" in caplog.text


# -- end to end ----------------------------------------------------------------


def file_overrides(paths):
    return ["dataset=files", *(f"dataset.{k}={p}" for k, p in zip(("docs", "queries", "qrels"), paths))]


def run_files(tmp_path, paths, *overrides):
    config = compose_run_config(
        [
            *file_overrides(paths),
            "retriever=bm25",
            "tracking=none",
            "show_progress=false",
            f"results_dir={tmp_path / 'results'}",
            *overrides,
        ]
    )
    return run_experiment(OmegaConf.to_container(config, resolve=True))


def trec_eval(qrels: dict, run: dict, level: int) -> dict[str, float]:
    main_measures = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100", "map"}, relevance_level=level).evaluate(
        run
    )
    top10 = {q: dict(ranked(docs)[:10]) for q, docs in run.items()}
    rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}, relevance_level=level).evaluate(top10)
    judged = [q for q in qrels if q in main_measures]
    mean = lambda values: sum(values) / len(qrels)  # noqa: E731  queries without results score 0
    return {
        "ndcg@10": mean(main_measures[q]["ndcg_cut_10"] for q in judged),
        "mrr@10": mean(rr[q]["recip_rank"] for q in judged if q in rr),
        "recall@100": mean(main_measures[q]["recall_100"] for q in judged),
        "map": mean(main_measures[q]["map"] for q in judged),
    }


@pytest.mark.parametrize("level", [1, 2])
def test_trec_sgml_collection_runs_bm25_with_trec_eval_figures(tmp_path, irds_home, level):
    paths = write(tmp_path / "data")
    result = run_files(tmp_path, paths, f"dataset.binary_relevance_level={level}")
    run = read_run(result.run_dir / "run.trec")
    assert set(run) == {"401", "402"}  # judged queries only (dataset.judged_only)
    assert set(run["401"]) <= {f"LA0{i}" for i in range(1, 7)}
    lines = [line.split() for line in QRELS.splitlines()]
    qrels = {q: {d: int(g) for qid, _, d, g in lines if qid == q} for q in ("401", "402")}
    expected = trec_eval(qrels, run, level)
    assert result.metrics.keys() == expected.keys()
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value, abs=1e-4), name
    assert result.info["judged_queries"] == 2 and 0 < result.metrics["ndcg@10"] < 1
    assert json.loads((result.run_dir / "metrics.json").read_text()) == result.metrics


def test_editing_a_document_file_gives_new_figures(tmp_path, irds_home):
    paths = write(tmp_path / "data")
    first = run_files(tmp_path, paths)
    again = run_files(tmp_path, paths)
    assert again.metrics == first.metrics and again.info["cache"].get("retrieve.hit") == 1
    edit = TREC_DOCS.replace("Cats &amp; mats", "News").replace("The cat sat on the mat.", "Nothing to see here.")
    paths[0].write_text(edit.replace("Cats like warm mats.", "Rain again."))  # LA01 (label 2) loses the words
    edited = run_files(tmp_path, paths)
    assert edited.info["cache"].get("retrieve.miss") == 1 and edited.info["cache"].get("bm25-index.miss") == 1
    assert edited.per_query["ndcg@10"]["401"] != first.per_query["ndcg@10"]["401"]
    store = datasets.load(files_id(*map(str, paths)), get_plugin_manager(), Path(".")).docs_store()
    assert store.get("LA01").text.startswith("Nothing to see here.")  # the docstore is rebuilt, never stale


def test_a_reranker_reads_the_files_docstore(tmp_path, irds_home):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from harness.models.loading import packaged_minilm

    tokenizer = AutoTokenizer.from_pretrained(packaged_minilm())
    torch.manual_seed(0)  # a tiny random encoder: the point is that reranking reads every text from the docstore
    BertModel(
        BertConfig(
            vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
        )
    ).save_pretrained(tmp_path / "bert")
    tokenizer.save_pretrained(tmp_path / "bert")
    result = run_files(tmp_path, write(tmp_path / "data"), "reranker=bi_encoder", f"reranker.model={tmp_path / 'bert'}")
    run = read_run(result.run_dir / "run.trec")
    assert set(run) == {"401", "402"} and all(len(docs) <= 6 for docs in run.values())
    assert result.info["cache"].get("rerank.miss") == 1 and 0 <= result.metrics["ndcg@10"] <= 1


def test_negative_labels_count_as_judged_non_relevant_as_in_trec_eval():
    qrels = {"q": {"a": 2, "b": -2, "c": 0, "d": 1}}
    run = {"q": {"b": 4.0, "a": 3.0, "c": 2.0, "d": 1.0}}
    ours = evaluate(qrels, run, ["ndcg@10", "map"], binary_relevance_level=1).mean
    theirs = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "map"}).evaluate(run)["q"]
    assert ours["ndcg@10"] == pytest.approx(theirs["ndcg_cut_10"], abs=1e-9)
    assert ours["map"] == pytest.approx(theirs["map"], abs=1e-9)
    zeroed = evaluate({"q": {"a": 2, "b": 0, "c": 0, "d": 1}}, run, ["ndcg@10"]).mean
    assert ours["ndcg@10"] == zeroed["ndcg@10"]  # gain 0, as a 0 label


def test_convention_line_names_level_and_negative_labels():
    line = convention(2, "msmarco-passage-mini/trec-dl-2019")
    assert line.startswith("relevance: label >= 2 counts as relevant for binary measures")
    assert "TREC DL convention" in line and "negative labels count as judged non-relevant" in line
    assert "TREC DL" not in convention(1, "files:docs=x") and "label >= 1" in convention(1, "files:docs=x")


# -- harness datasets check ----------------------------------------------------


def check(capsys, *overrides):
    code = main(["datasets", "check", *overrides])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_prints_counts_and_warnings_and_exits_0(tmp_path, irds_home, capsys):
    code, out, _ = check(capsys, *file_overrides(write(tmp_path)))
    assert code == 0
    for line in [
        "documents                               6",
        "queries                                 3",
        "judged queries                          2",
        "queries without judgments               1",
        "judgments                               8",
        "judged documents not in the collection  1",
        "judgments by label                      -1: 1, 0: 2, 1: 3, 2: 2",
    ]:
        assert line in out, out
    assert "relevance: label >= 1" in out
    assert "warning: dataset.qrels" in out and "'LA99'" in out and "error:" not in out


def test_check_exits_1_on_errors_and_2_on_unreadable_input(tmp_path, irds_home, capsys):
    code, out, _ = check(capsys, *file_overrides(write(tmp_path, qrels="999 0 LA01 1\n")))
    assert code == 1 and "error: dataset.qrels" in out and "none of its 1 judged queries" in out
    code, out, _ = check(capsys, *file_overrides(write(tmp_path, docs="d1\tx\nd1\ty\n", qrels="401 0 d1 1\n")))
    assert code == 1 and "docs.trec:2: duplicate document id 'd1': first on line 1" in out
    code, _, err = check(
        capsys,
        "dataset=files",
        f"dataset.docs={tmp_path / 'none.trec'}",
        f"dataset.queries={tmp_path / 'topics.txt'}",
        f"dataset.qrels={tmp_path / 'qrels.txt'}",
    )
    assert code == 2 and "harness: error: dataset.docs: " in err and "none.trec not found" in err
    code, _, err = check(capsys, "dataset.no_such_key=1")
    assert code == 2 and "harness: error: datasets check dataset.no_such_key=1" in err


def test_check_works_for_a_registered_dataset(tiny_root, capsys):
    from tiny_data import PASSAGES, QRELS, TOPICS

    code, out, _ = check(capsys, "dataset=msmarco-passage-mini/trec-dl-2019")
    assert code == 0, out
    assert f"documents{' ' * 31}{len(PASSAGES)}" in out and f"queries{' ' * 33}{len(TOPICS)}" in out
    assert f"judgments{' ' * 31}{len(QRELS)}" in out and "TREC DL convention" in out


def test_a_dataset_whose_queries_match_no_judgment_fails_before_any_stage(tiny_root, tmp_path):
    # The case: an ir_datasets dataset with 0 matching queries ran for minutes, then ranx crashed.
    (tiny_root / "msmarco-passage-mini" / "topics.dl19-passage.txt").write_text("999\tunjudged\n")
    config = compose_run_config(["tracking=none", "show_progress=false", f"results_dir={tmp_path / 'results'}"])
    with pytest.raises(
        DataError,
        match=r"dataset 'msmarco-passage-mini/trec-dl-2019': no query to run: none of its "
        r"\d+ judged queries \('101', ",
    ):
        run_experiment(OmegaConf.to_container(config, resolve=True))
    cache = tmp_path / "results" / "cache"
    assert not (cache / "bm25-index").exists() and not (cache / "retrieve").exists()  # no stage ran
    assert not list((tmp_path / "results").rglob("run.trec"))
