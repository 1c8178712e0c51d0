"""`harness leaderboard` on a store holding DL19 and DL20 runs, and `harness compare`, end to end.

Real ``harness run`` jobs (the official run alone, and the overlap reranker over it, on both
datasets) write the store; the figures are checked against the run folders and the tiny data.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.ranking import ranked
from harness.data.trec_io import read_run

pytestmark = pytest.mark.slow  # its store is filled by subprocess sweeps

DL19, DL20 = "msmarco-passage-mini/trec-dl-2019", "msmarco-passage-mini/trec-dl-2020"


@pytest.fixture(scope="module")
def store(tmp_path_factory, tiny_root, plugin_site):
    """A results folder with four tracked runs: official run and overlap reranker, on DL19 and DL20."""
    from sweeps.conftest import run_harness, sweep_environment

    home = tmp_path_factory.mktemp("two-datasets")
    env = sweep_environment(tiny_root, plugin_site, home / "irds")
    datasets = f"dataset={DL19},{DL20}"
    run_harness(env, home / "results", "-m", "retriever=run", datasets, "experiment_name=first")
    run_harness(
        env,
        home / "results",
        "-m",
        "retriever=run",
        "reranker=overlap",
        "reranker.weight=0",
        datasets,
        "experiment_name=reranked",
    )
    return home, env


@pytest.fixture()
def in_store(store, monkeypatch):
    home, env = store
    monkeypatch.chdir(home)
    for key in ("HARNESS_DATA_ROOT", "IR_DATASETS_HOME", "PYTHONPATH"):
        monkeypatch.setenv(key, env[key])
    return home


def folders(home: Path) -> dict[tuple[str, str], Path]:
    """(experiment, dataset) -> run folder."""
    out = {}
    for experiment in ("first", "reranked"):
        for folder in (home / "results" / experiment).iterdir():
            config = json.loads((folder / "run_info.json").read_text())
            out[experiment, config["tags"]["harness.dataset"]] = folder
    return out


def test_no_options_gives_one_section_per_dataset_in_every_format(in_store, capsys, tiny_root):
    out = in_store / "board"
    files = [out / f"board{suffix}" for suffix in (".md", ".csv", ".tex", ".html", ".txt")]
    assert main(["leaderboard", *(arg for f in files for arg in ("-o", str(f)))]) == 0
    printed = capsys.readouterr().out
    assert f"== dataset: {DL19} ==" in printed and f"== dataset: {DL20} ==" in printed
    assert printed.count("baseline: bm25 (official run), the first stage the others build on") == 2
    for path in files:
        text = path.read_text().replace("\\%", "%")
        assert DL19 in text and DL20 in text, path
        for column in ("95% CI", "W/T/L", "judged@10"):
            assert text.count(column) >= (1 if path.suffix == ".csv" else 2), (path, column)
    rows = list(csv.DictReader((out / "board.csv").open(encoding="utf-8")))
    assert sorted(r["dataset"] for r in rows) == [DL19, DL19, DL20, DL20]
    runs = folders(in_store)
    for row in rows:
        experiment = "reranked" if "overlap" in row["system"] else "first"
        folder = runs[experiment, row["dataset"]]
        per_query = json.loads((folder / "per_query.json").read_text())["ndcg@10"]
        assert float(row["ndcg@10"]) == round(sum(per_query.values()) / len(per_query), 4)
        assert row["source"].startswith(f"mlflow:{experiment}/") and len(row["source"].split("/")[-1]) == 8
        assert float(row["judged@10"]) == round(judged_by_hand(folder / "run.trec", tiny_root, row["dataset"]), 4)
        if experiment == "reranked":
            base = json.loads((runs["first", row["dataset"]] / "per_query.json").read_text())["ndcg@10"]
            diffs = [per_query[q] - base[q] for q in base]
            wtl = (sum(d > 1e-9 for d in diffs), sum(abs(d) <= 1e-9 for d in diffs), sum(d < -1e-9 for d in diffs))
            assert row["W/T/L"] == "/".join(map(str, wtl))
            low, high = float(row["Δ 95% CI low"]), float(row["Δ 95% CI high"])
            assert low <= float(row["Δ ndcg@10"]) <= high
        else:
            assert row["system"] == "bm25 (official run) (baseline)" and row["W/T/L"] == ""


def judged_by_hand(run_file: Path, data_root: Path, dataset: str) -> float:
    """Mean share of the top 10 (ranking rule) that the tiny qrels judge, over the judged queries."""
    short = "19" if dataset.endswith("2019") else "20"
    judged: dict[str, set[str]] = {}
    for line in (data_root / "msmarco-passage-mini" / f"qrels.dl{short}-passage.txt").read_text().splitlines():
        qid, _, doc, _ = line.split()
        judged.setdefault(qid, set()).add(doc)
    run = read_run(run_file)
    shares = []
    for qid, docs in judged.items():
        top = [d for d, _ in ranked(run.get(qid, {}))[:10]]
        shares.append(sum(d in docs for d in top) / len(top) if top else 0.0)
    return sum(shares) / len(shares)


def test_compare_two_tracked_runs(in_store, capsys, tiny_root):
    runs = folders(in_store)
    ids = run_ids(in_store)
    plot = in_store / "cmp" / "dl19.png"
    assert main(["compare", ids["first", DL19], ids["reranked", DL19][:10], "--top", "2", "--plot", str(plot)]) == 0
    printed = capsys.readouterr().out
    a = json.loads((runs["first", DL19] / "per_query.json").read_text())["ndcg@10"]
    b = json.loads((runs["reranked", DL19] / "per_query.json").read_text())["ndcg@10"]
    diffs = {q: b[q] - a[q] for q in a}
    wtl = (
        sum(d > 1e-9 for d in diffs.values()),
        sum(abs(d) <= 1e-9 for d in diffs.values()),
        sum(d < -1e-9 for d in diffs.values()),
    )
    assert f"W/T/L (B vs A): {wtl[0]}/{wtl[1]}/{wtl[2]}" in printed
    mean = sum(diffs.values()) / len(diffs)
    assert f"mean Δ ndcg@10 (B - A): {mean:+.4f}, 95% CI [" in printed
    assert "p (student)" in printed and "p (fisher)" in printed
    best = min(diffs, key=lambda q: (-diffs[q], q))
    if diffs[best] > 1e-9:  # the largest gain is listed first, with its query text
        topics = dict(
            line.split("\t") for line in (tiny_root / "msmarco-passage-mini" / "topics.dl19-passage.txt").read_text().splitlines()
        )
        first = printed.split("largest gains")[1].split("largest losses")[0].splitlines()[3]
        assert first.split()[0] == best and topics[best] in first
    assert plot.read_bytes().startswith(b"\x89PNG")


def run_ids(home: Path) -> dict[tuple[str, str], str]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{home / 'results' / 'mlflow.db'}")
    out = {}
    for experiment in ("first", "reranked"):
        exp = client.get_experiment_by_name(experiment)
        for run in client.search_runs([exp.experiment_id]):
            out[experiment, run.data.tags["harness.dataset"]] = run.info.run_id
    return out


def test_compare_errors_are_clear(in_store, capsys, tiny_root):
    ids = run_ids(in_store)
    assert main(["compare", ids["first", DL19], ids["first", DL20]]) == 2
    assert "different datasets" in capsys.readouterr().err
    assert main(["compare", "nosuchrun", ids["first", DL19]]) == 2
    assert "'nosuchrun' is neither a file nor an MLflow run id" in capsys.readouterr().err
    elsewhere = in_store / "elsewhere.trec"
    elsewhere.write_text("zzz Q0 0 1 1.0 x\n")
    assert main(["compare", str(elsewhere), ids["first", DL19]]) == 2
    assert "no query of the run is judged" in capsys.readouterr().err
    official = tiny_root / "msmarco-passage-mini" / "run.dl19.bm25-top100.trec"
    assert main(["compare", str(official), str(official)]) == 2
    assert "run files need --dataset" in capsys.readouterr().err


def test_compare_two_run_files(in_store, capsys, tiny_root):
    official = tiny_root / "msmarco-passage-mini" / "run.dl19.bm25-top100.trec"
    reversed_run = in_store / "reversed.trec"
    lines = [line.split() for line in official.read_text().splitlines()]
    reversed_run.write_text("".join(f"{q} Q0 {d} {r} {-float(s)} rev\n" for q, _, d, r, s, _ in lines))
    assert main(["compare", str(official), str(reversed_run), "--dataset", DL19, "--top", "3"]) == 0
    printed = capsys.readouterr().out
    assert "A: run.dl19.bm25-top100\nB: reversed" in printed and "on 6 shared queries" in printed
    default_plot = in_store / "results" / "compare" / "run.dl19.bm25-top100_vs_reversed_ndcg_10.png"
    assert f"wrote {default_plot.relative_to(in_store)}" in printed and default_plot.is_file()
