"""`harness run suite=...` and `harness leaderboard --suite ...` end to end, on tiny DL19, DL20 and a tiny
TREC-SGML collection written by the test: ordinary runs per dataset, resumed, and the aggregate table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from harness.cli import main

# The suite's runs go through the harness command as processes (a sweep of suites is a Hydra multirun):
# the whole module is the slow tier's. The suite's config and board are in the fast tier in-process
# (tests/runs/test_suite_config.py, tests/reports/test_leaderboard_suite.py).
pytestmark = pytest.mark.slow

DL19, DL20 = "msmarco-passage-mini/trec-dl-2019", "msmarco-passage-mini/trec-dl-2020"
WORDS = (
    "neural ranking bert passage query retrieval lexical dense sparse index vector "
    "model train adapter lora rank token score match term corpus"
).split()


def write_trec_collection(folder: Path) -> list[Path]:
    """Twelve TREC-SGML documents, four TREC topics, graded qrels."""
    folder.mkdir(parents=True)
    docs = "".join(
        f"<DOC>\n<DOCNO> T{i:02d} </DOCNO>\n<TEXT>\n{' '.join(WORDS[i : i + 6])}\n</TEXT>\n</DOC>\n" for i in range(12)
    )
    topics = "".join(f"<top>\n<num> Number: {500 + t}\n<title> {WORDS[2 * t]} {WORDS[2 * t + 3]}\n</top>\n\n" for t in range(4))
    qrels = "".join(f"{500 + t} 0 T{d:02d} {(t + d) % 3}\n" for t in range(4) for d in range(0, 12, 2))
    paths = [folder / "docs.trec", folder / "topics.txt", folder / "qrels.txt"]
    for path, text in zip(paths, (docs, topics, qrels)):
        path.write_text(text)
    return paths


@pytest.fixture(scope="module")
def suite_store(tmp_path_factory, tiny_root, plugin_site):
    from sweeps.conftest import run_harness, sweep_environment

    home = tmp_path_factory.mktemp("suite")
    docs, topics, qrels = write_trec_collection(home / "mine")
    conf = home / "conf" / "suite"
    conf.mkdir(parents=True)
    (conf / "mine.yaml").write_text(
        "name: mine\nmembers:\n"
        f"  dl19: dataset={DL19}\n  dl20: [dataset={DL20}]\n"
        f"  trec: [dataset=files, dataset.docs={docs}, dataset.queries={topics}, dataset.qrels={qrels}]\n"
    )
    env = sweep_environment(tiny_root, plugin_site, home / "irds")
    search = f"hydra.searchpath=[file://{home / 'conf'},file://{plugin_site / 'overlap_conf'}]"
    results = home / "results"
    sweep = run_harness(env, results, "-m", "suite=mine", "retriever.k1=0.9,1.2", search, "experiment_name=s")
    reranked = run_harness(env, results, "suite=mine", "reranker=overlap", search, "experiment_name=s")
    return home, env, search, (sweep, reranked)


def run_folders(home: Path) -> dict[tuple[str, str], Path]:
    """(dataset id, system) -> run folder."""
    out = {}
    for folder in (home / "results" / "s").iterdir():
        info = json.loads((folder / "run_info.json").read_text())
        config = json.loads(json.dumps(__import__("yaml").safe_load((folder / "config.yaml").read_text())))
        system = "overlap" if config["reranker"] else f"k1={config['retriever']['k1']}"
        out[info["dataset"], system] = folder
    return out


def test_each_member_is_an_ordinary_run_and_a_rerun_resumes(suite_store):
    from sweeps.conftest import run_harness

    home, env, search, (sweep, reranked) = suite_store
    found = run_folders(home)
    assert len(found) == 9  # three systems on three datasets, nine ordinary run folders
    assert {dataset for dataset, _ in found} >= {DL19, DL20} and len({d for d, _ in found}) == 3
    assert "suite mine: 3 datasets" in reranked.stdout and "mean" in reranked.stdout
    # A plain run of one member's config is that run: same folder, found finished and skipped.
    plain = run_harness(env, home / "results", f"dataset={DL20}", "reranker=overlap", "resume=true", search, "experiment_name=s")
    assert "already finished" in plain.stderr and str(found[DL20, "overlap"]) in plain.stdout
    again = run_harness(env, home / "results", "suite=mine", "reranker=overlap", search, "experiment_name=s")
    assert again.stderr.count("already finished") == 3 and len(run_folders(home)) == 9


def test_a_dataset_choice_beside_a_suite_is_an_error(suite_store):
    import subprocess

    from sweeps.conftest import harness_command

    home, env, search, _ = suite_store
    done = subprocess.run(
        harness_command(home / "results", "suite=mine", f"dataset={DL19}", search),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "the suite's members pick theirs" in done.stderr
    assert "Traceback" not in done.stderr
    # A sweep of suites with one run_name is refused by the sweep guard, before its first job.
    done = subprocess.run(
        harness_command(home / "results", "-m", "suite=mine", "retriever.k1=0.6,0.7", "run_name=fixed", search),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "sweep job #0" in done.stderr and "would give every member one run folder" in done.stderr
    assert not (home / "results" / "default").exists()  # nothing ran


def test_leaderboard_aggregates_the_suite_in_every_format(suite_store, monkeypatch, capsys):
    home, env, _, _ = suite_store
    monkeypatch.chdir(home)
    for key in ("HARNESS_DATA_ROOT", "IR_DATASETS_HOME", "PYTHONPATH"):
        monkeypatch.setenv(key, env[key])
    out = home / "board"
    files = [out / f"suite{suffix}" for suffix in (".md", ".csv", ".tex", ".html", ".txt")]
    assert (
        main(
            [
                "leaderboard",
                "--suite",
                "mine",
                "--suite-config-dir",
                str(home / "conf"),
                "--resamples",
                "500",
                *(arg for f in files for arg in ("-o", str(f))),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert printed.startswith("== suite mine: ndcg@10 on 3 datasets (dl19, dl20, trec) ==")
    assert "baseline: bm25 [retriever.k1=0.9], the first stage the others build on" in printed
    for path in files:
        text = path.read_text()
        for label in ("dl19", "dl20", "trec", "mean ndcg@10", "sig. +/-"):
            assert label in text, (path, label)
    rows = {r["system"]: r for r in csv.DictReader((out / "suite.csv").open(encoding="utf-8"))}
    assert set(rows) == {"bm25 + overlap", "bm25 [retriever.k1=0.9] (baseline)", "bm25 [retriever.k1=1.2]"}
    found = run_folders(home)
    datasets = {"dl19": DL19, "dl20": DL20, "trec": next(d for d, _ in found if d.startswith("files:"))}
    for name, system in (
        ("bm25 + overlap", "overlap"),
        ("bm25 [retriever.k1=1.2]", "k1=1.2"),
        ("bm25 [retriever.k1=0.9] (baseline)", "k1=0.9"),
    ):
        means = []
        for label, dataset in datasets.items():
            per_query = json.loads((found[dataset, system] / "per_query.json").read_text())["ndcg@10"]
            means.append(sum(per_query.values()) / len(per_query))
            assert float(rows[name][label]) == round(means[-1], 4)
            assert rows[name][f"dataset {label}"] == dataset
        assert float(rows[name]["mean ndcg@10"]) == round(sum(means) / 3, 4)
    html = (out / "suite.html").read_text()
    assert html.count("<section class='board'") == 3 and "leaderboard suite" in html


def test_real_dl19_dl20_and_a_tiny_trec_collection_give_the_suite_table(tmp_path, monkeypatch, capsys):
    """The acceptance case on the real msmarco-passage-mini DL19 and DL20 beside a TREC-SGML collection."""
    import os

    from sweeps.conftest import run_harness
    from tiny_data import REAL_DATA

    if not (REAL_DATA / "msmarco-passage-mini" / "collection.tsv").exists():
        pytest.skip(f"real data not found at {REAL_DATA}")
    docs, topics, qrels = write_trec_collection(tmp_path / "mine")
    (tmp_path / "conf" / "suite").mkdir(parents=True)
    (tmp_path / "conf" / "suite" / "mix.yaml").write_text(
        f"name: mix\nmembers:\n  dl19: dataset={DL19}\n  dl20: dataset={DL20}\n"
        f"  trec: [dataset=files, dataset.docs={docs}, dataset.queries={topics}, dataset.qrels={qrels}]\n"
    )
    env = {**os.environ, "HARNESS_DATA_ROOT": str(REAL_DATA), "IR_DATASETS_HOME": str(tmp_path / "irds")}
    run_harness(
        env,
        tmp_path / "results",
        "-m",
        "suite=mix",
        "retriever.k1=0.9,1.2",
        "experiment_name=mix",
        f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
        timeout=1200,
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IR_DATASETS_HOME", env["IR_DATASETS_HOME"])
    monkeypatch.setenv("HARNESS_DATA_ROOT", str(REAL_DATA))
    assert (
        main(
            [
                "leaderboard",
                "--suite",
                "mix",
                "--suite-config-dir",
                str(tmp_path / "conf"),
                "--resamples",
                "1000",
                "-o",
                str(tmp_path / "mix.csv"),
            ]
        )
        == 0
    )
    assert "== suite mix: ndcg@10 on 3 datasets (dl19, dl20, trec) ==" in capsys.readouterr().out
    rows = {r["system"]: r for r in csv.DictReader((tmp_path / "mix.csv").open(encoding="utf-8"))}
    base = rows["bm25 [retriever.k1=0.9] (baseline)"]
    # The subset-corpus BM25 figures of README.md / docs/leaderboard.md, now as suite cells.
    assert (base["dl19"], base["dl20"]) == ("0.4573", "0.4647")
    assert rows["bm25 [retriever.k1=1.2]"]["dl19"] == "0.4393"
    # the cells are rounded to 4 places, the mean is of the unrounded figures
    assert float(base["mean ndcg@10"]) == pytest.approx((0.4573 + 0.4647 + float(base["trec"])) / 3, abs=1e-4)
