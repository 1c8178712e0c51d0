"""A suite's leaderboard on synthetic entries: systems across datasets, the mean, markers per dataset, formats."""

from __future__ import annotations

import csv
import io
import random

import pytest

from harness.errors import ConfigError
from harness.evaluation import evaluate
from harness.reports.leaderboard.board import build_leaderboard
from harness.reports.leaderboard.suite import build_suite, system_key
from harness.reports.leaderboard.suite_render import header, page, rows, to_csv, write
from harness.reports.leaderboard.entries import Entry
from harness.reports.leaderboard.significance import TestOptions

DATASETS = {
    "dl19": "msmarco-passage-mini/trec-dl-2019",
    "dl20": "msmarco-passage-mini/trec-dl-2020",
    "mine": "files:docs=/x/docs.trec;queries=/x/topics.txt;qrels=/x/qrels.txt",
}
SYSTEMS = {"bm25": 0.0, "rerank": 3.0, "noisy": 0.2}  # skill: weight of the label in the scores


def params(system: str, dataset: str, **extra) -> dict[str, str]:
    own = {
        "retriever.name": "bm25",
        "retriever.k1": "0.9",
        "reranker.name": "None",
        "dataset.id": dataset,
        "dataset.binary_relevance_level": "1",
        "experiment_name": f"e-{dataset[-4:]}",
        "results_dir": "/r",
    }
    if system == "rerank":
        own["reranker.name"] = "overlap"
    if system == "noisy":
        own["retriever.k1"] = "1.2"
    return {**own, **extra}


def entries(seed: int = 3, skip=()) -> list[Entry]:
    rng = random.Random(seed)
    out = []
    for label, dataset in DATASETS.items():
        qrels = {f"{label}-q{i}": {f"d{j}": rng.choice([0, 1, 2]) for j in range(20)} for i in range(30)}
        for system, skill in SYSTEMS.items():
            if (system, label) in skip:
                continue
            run = {q: {d: rng.random() + skill * rel for d, rel in rels.items()} for q, rels in qrels.items()}
            result = evaluate(qrels, run, ["ndcg@10", "map"], 1)
            first = system != "rerank"
            stage = f"{dataset}|bm25-{params(system, dataset)['retriever.k1']}"
            out.append(
                Entry(
                    "bm25" if first else "bm25 + overlap",
                    f"mlflow:x/{system}{label}",
                    dataset,
                    result.mean,
                    result.per_query,
                    params=params(system, dataset),
                    stage=stage if first else None,
                    upstream=None if first else f"{dataset}|bm25-0.9",
                )
            )
    return out


def test_a_system_is_its_config_without_the_dataset():
    a, b = Entry("x", "", "d1", {}, {}, params=params("bm25", "d1")), Entry("x", "", "d2", {}, {}, params=params("bm25", "d2"))
    assert system_key(a) == system_key(b)
    assert system_key(a) != system_key(Entry("x", "", "d1", {}, {}, params=params("noisy", "d1")))
    assert system_key(Entry("run", "", "d1", {}, {})) == "name:run"  # a run file: its name


SOURCE = {"bm25 + overlap": "rerank", "bm25 [retriever.k1=0.9]": "bm25", "bm25 [retriever.k1=1.2]": "noisy"}


def suite_name(entry: Entry) -> str:
    if entry.params["reranker.name"] == "overlap":
        return "bm25 + overlap"
    return f"bm25 [retriever.k1={entry.params['retriever.k1']}]"


def test_suite_board_columns_mean_and_per_dataset_markers():
    found = entries()
    suite = build_suite("mine", DATASETS, found, "ndcg@10")
    assert header(suite) == ["rank", "system", "dl19", "dl20", "mine", "mean ndcg@10", "Δ mean", "sig. +/-"]
    assert set(suite.systems) == set(SOURCE)  # names told apart over the whole suite
    assert suite.systems[0] == "bm25 + overlap"
    assert suite.baseline == "bm25 [retriever.k1=0.9]"
    assert suite.baseline_reason == "the first stage the others build on"
    for system, source in SOURCE.items():
        own = [e for e in found if e.source.startswith(f"mlflow:x/{source}")]
        assert suite.mean(system) == pytest.approx(sum(e.mean["ndcg@10"] for e in own) / 3)
    for label, dataset in DATASETS.items():  # each cell's markers are those of that dataset's own board
        board = suite.boards[label]
        assert board.baseline == suite.baseline and board.dataset == dataset
        assert "the suite's baseline" in board.baseline_reason
        alone = build_leaderboard([_copy(e, suite_name(e)) for e in found if e.dataset == dataset], "ndcg@10", suite.baseline)
        assert {n: alone.markers(n) for n in suite.systems} == {n: board.markers(n) for n in suite.systems}
    row = rows(suite)[0]
    assert row[2].endswith("†‡") and row[7] == "3/0"  # the reranker wins significantly on all three
    base = rows(suite)[suite.systems.index(suite.baseline)]
    assert base[1].endswith("(baseline)") and base[6] == "" and base[7] == ""


def _copy(entry, name):
    import copy

    out = copy.copy(entry)
    out.name = name
    return out


def test_a_system_missing_a_dataset_has_no_mean_and_ranks_last():
    suite = build_suite("mine", DATASETS, entries(skip=[("noisy", "mine")]), "ndcg@10")
    assert suite.systems[-1] == "bm25 [retriever.k1=1.2]" and suite.mean(suite.systems[-1]) is None
    last = rows(suite)[-1]
    assert last[4] == "" and last[5] == "" and last[6] == ""


def test_named_baseline_and_errors():
    suite = build_suite("mine", DATASETS, entries(), "ndcg@10", baseline="k1=1.2")
    assert suite.baseline == "bm25 [retriever.k1=1.2]" and suite.baseline_reason == "named by --baseline"
    with pytest.raises(ConfigError, match="no entry on any of its datasets"):
        build_suite("mine", {"x": "other"}, entries(), "ndcg@10", options=TestOptions(resamples=1000))
    with pytest.raises(ConfigError, match="metric 'mrr@10' is missing"):
        build_suite("mine", DATASETS, entries(), "mrr@10")


@pytest.mark.parametrize(
    "fmt, heading", [("table", "== suite mine"), ("markdown", "## suite mine"), ("latex", "\\paragraph{suite mine")]
)
def test_text_formats_hold_the_suite_table_then_each_dataset(fmt, heading):
    text = write(build_suite("mine", DATASETS, entries(), "ndcg@10", options=TestOptions(resamples=1000)), fmt)
    assert text.startswith(heading)
    [columns] = [line for line in text.splitlines() if "mean ndcg@10" in line and "rank" in line]
    assert all(label in columns for label in DATASETS) and "sig. +/-" in columns
    for dataset in DATASETS.values():
        assert dataset.replace("_", "\\_") in text
    assert text.count("95% CI" if fmt != "latex" else "95\\% CI") >= 3  # the per-dataset boards follow
    assert ("$^{\\dagger}$" if fmt == "latex" else "†") in text


def test_csv_is_the_suite_table_with_flags_per_dataset():
    suite = build_suite("mine", DATASETS, entries(), "ndcg@10", options=TestOptions(resamples=1000))
    table = list(csv.DictReader(io.StringIO(to_csv(suite))))
    assert [r["system"] for r in table] == [s + (" (baseline)" if s == suite.baseline else "") for s in suite.systems]
    top = table[0]
    assert float(top["mean ndcg@10"]) == round(suite.mean(suite.systems[0]), 4)
    assert top["dl19"] == f"{suite.scores[suite.systems[0]]['dl19']:.4f}"  # unmarked
    assert top["significant (student) dl19"] == "yes" and top["dataset mine"] == DATASETS["mine"]


def test_html_page_holds_the_suite_table_and_the_datasets_sections():
    from html.parser import HTMLParser

    text = page(build_suite("mine", DATASETS, entries(), "ndcg@10", options=TestOptions(resamples=1000)))

    class Tags(HTMLParser):
        found: list = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, dict(attrs).get("class")))

    parser = Tags()
    parser.feed(text)
    assert ("table", "leaderboard suite") in parser.found
    assert sum(tag == ("section", "board") for tag in parser.found) == 3
