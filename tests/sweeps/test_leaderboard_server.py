"""A sweep logged to a real ``mlflow server`` on loopback, and the leaderboard read back from it."""

from __future__ import annotations

import csv
import json
import re

import pytest
import yaml

from harness.cli import main

pytestmark = pytest.mark.slow  # a real mlflow server and a subprocess sweep


def test_sweep_to_server_then_leaderboard(cli, mlflow_server, tmp_path, monkeypatch, capsys):
    results = tmp_path / "results"
    cli.run(
        results,
        "-m",
        "retriever=run",
        "reranker=overlap",
        "reranker.weight=0,0.5,1000",
        f"tracking.tracking_uri={mlflow_server}",
        "experiment_name=board",
    )
    # The first stage alone, as an external run file on the same qrels.
    first_stage = cli.env["HARNESS_DATA_ROOT"] + "/msmarco-passage-mini/run.dl19.bm25-top100.trec"
    monkeypatch.setenv("HARNESS_DATA_ROOT", cli.env["HARNESS_DATA_ROOT"])
    monkeypatch.setenv("IR_DATASETS_HOME", cli.env["IR_DATASETS_HOME"])
    out = tmp_path / "board"
    code = main(
        [
            "leaderboard",
            "--tracking-uri",
            mlflow_server,
            "--experiment",
            "board",
            "--dataset",
            "msmarco-passage-mini/trec-dl-2019",
            "--tag",
            "harness.corpus=full",
            "--run-file",
            f"{first_stage}=bm25-top100",
            "--baseline",
            "bm25-top100",
            "-o",
            str(out / "board.csv"),
            "-o",
            str(out / "board.md"),
            "-o",
            str(out / "board.tex"),
            "-o",
            str(out / "board.html"),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "bm25-top100 (baseline)" in printed
    rows = list(csv.DictReader((out / "board.csv").open()))
    assert len(rows) == 4  # three tracked reranker runs + the run file
    # Each tracked entry's score is the one its run folder recorded.
    folders = {json.loads((d / "run_info.json").read_text())["run_name"]: d for d in (results / "board").iterdir()}
    recorded = {name: json.loads((d / "metrics.json").read_text()) for name, d in folders.items()}
    weights = {name: yaml.safe_load((d / "config.yaml").read_text())["reranker"]["weight"] for name, d in folders.items()}
    by_weight = {str(weight): name for name, weight in weights.items()}

    def weight_of(row):  # readable names carry the swept param: 'bm25 (official run) + overlap [reranker.weight=0]'
        found = re.search(r"reranker\.weight=([^,\]]+)", row["system"])
        return found[1] if found else None

    for row in rows:
        if row["source"].startswith("mlflow"):
            assert row["system"].startswith("bm25 (official run) + overlap [reranker.weight=")
            assert float(row["ndcg@10"]) == round(recorded[by_weight[weight_of(row)]]["ndcg@10"], 4)
    # weight=1000 keeps the first stage's order: scored on the same qrels, it ties the run file exactly.
    tied = [r for r in rows if r["Δ ndcg@10"] and float(r["Δ ndcg@10"]) == 0.0]
    assert "1000" in {weight_of(r) for r in tied}
    assert all(r["p (student)"] == "1.0000" and r["W/T/L"].split("/")[0::2] == ["0", "0"] for r in tied)
    assert "<table" in (out / "board.html").read_text()
