"""The reports the fast tier would otherwise reach only through subprocess sweeps, run in process:
harness compare on two run files, the sweep summary's job records, plot-sweep's points and plot,
and ``python -m harness.cli``."""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import types

import pytest

from harness.cli import main
from harness.reports import sweep_plot
from harness.reports.sweep_summary import RECORD, SweepSummary, job_totals, record_job

DL19 = "msmarco-passage-mini/trec-dl-2019"


def test_compare_two_run_files(tiny_root, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()  # the default plot goes under results/compare/ where results/ exists
    official = tiny_root / "msmarco-passage-mini" / "run.dl19.bm25-top100.trec"
    reversed_run = tmp_path / "reversed.trec"
    lines = [line.split() for line in official.read_text().splitlines()]
    reversed_run.write_text("".join(f"{q} Q0 {d} {r} {-float(s)} rev\n" for q, _, d, r, s, _ in lines))
    assert (
        main(
            [
                "compare",
                str(official),
                str(reversed_run),
                "--dataset",
                DL19,
                "--top",
                "2",
                "--resamples",
                "200",
                "--permutations",
                "200",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "A: run.dl19.bm25-top100\nB: reversed" in printed and "W/T/L (B vs A):" in printed
    plot = tmp_path / "results" / "compare" / "run.dl19.bm25-top100_vs_reversed_ndcg_10.png"
    assert plot.read_bytes().startswith(b"\x89PNG") and f"wrote {plot.relative_to(tmp_path)}" in printed


def job(run_dir, resumed=False, cache=None):
    return types.SimpleNamespace(run_dir=run_dir, info={"resumed": resumed, "cache": cache or {}})


def record(job_dir, roots, result):
    job_dir.mkdir(parents=True, exist_ok=True)  # Hydra's job folder
    record_job(job_dir, roots, result)


def test_job_records_are_totalled_and_resumed_jobs_keep_no_cache_counts(tmp_path, caplog):
    sweep = tmp_path / "sweep"
    old = sweep / "9"
    record(old, [tmp_path], job("r9", cache={"retrieve.miss": 5}))
    os.utime(old / RECORD, (1, 1))  # a record of an earlier sweep into the same folder
    since = time.time() - 60
    record(sweep / "0", [tmp_path], job("r0", cache={"retrieve.miss": 1, "rerank.miss": 1}))
    record(sweep / "1", [tmp_path], job("r1", cache={"retrieve.hit": 1, "rerank.miss": 1}))
    record(sweep / "2", [tmp_path], job("r2", resumed=True, cache={"retrieve.hit": 7}))
    assert json.loads((sweep / "2" / RECORD).read_text())["cache"] == {}
    (sweep / "3").mkdir()
    (sweep / "3" / RECORD).write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="harness.sweep"):
        ran, resumed, totals = job_totals(sweep, since)
    assert (ran, resumed) == (2, 1)
    assert totals == {"retrieve.miss": 1, "retrieve.hit": 1, "rerank.miss": 2}
    assert "unreadable job record" in caplog.text and str(sweep / "3" / RECORD) in caplog.text


def test_sweep_summary_logs_one_line(tmp_path, caplog):
    from omegaconf import OmegaConf

    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}})
    summary = SweepSummary()
    summary.on_multirun_start(config)
    record(tmp_path / "0", [tmp_path], job("r0", cache={"retrieve.miss": 1}))
    record(tmp_path / "1", [tmp_path], job("r1", resumed=True))
    with caplog.at_level(logging.INFO, logger="harness.sweep"):
        summary.on_multirun_end(config)
    assert "sweep: 2 jobs (1 run, 1 resumed) in " in caplog.text and "stage cache: retrieve.miss=1" in caplog.text


class FakeClient:
    """What sweep_points asks of MLflow: one experiment, its FINISHED runs."""

    def __init__(self, runs):
        self.runs = runs

    def get_experiment_by_name(self, name):
        return types.SimpleNamespace(experiment_id="1") if name == "peft_rank" else None

    def search_runs(self, ids, filter_string):
        assert ids == ["1"] and "FINISHED" in filter_string
        return [types.SimpleNamespace(data=types.SimpleNamespace(params=p, metrics=m)) for p, m in self.runs]


@pytest.fixture()
def fake_mlflow(monkeypatch):
    import mlflow

    runs = [
        ({"peft.r": "8", "peft.target_modules": "qv"}, {"ndcg_at_10": 0.5}),
        ({"peft.r": "2", "peft.target_modules": "qv"}, {"ndcg_at_10": 0.4}),
        ({"peft.r": "4", "peft.target_modules": "all-linear"}, {"ndcg_at_10": 0.6}),
        ({"peft.r": "4"}, {"other": 1.0}),
    ]  # no ndcg: left out
    monkeypatch.setattr(mlflow, "MlflowClient", lambda uri: FakeClient(runs))


def test_sweep_points_group_by_series_and_sort_numerically(fake_mlflow):
    points = sweep_plot.sweep_points("fake://", "peft_rank", "peft.r", "ndcg@10", "peft.target_modules")
    assert {k: [(p.x, p.mean, p.runs) for p in v] for k, v in points.items()} == {
        "qv": [(2.0, 0.4, 1), (8.0, 0.5, 1)],
        "all-linear": [(4.0, 0.6, 1)],
    }
    assert all(p.low is None for v in points.values() for p in v)  # one run: no interval
    with pytest.raises(Exception, match="no MLflow experiment 'other'"):
        sweep_plot.sweep_points("fake://", "other", "peft.r", "ndcg@10", None)
    with pytest.raises(Exception, match="no FINISHED run with param 'peft.alpha'"):
        sweep_plot.sweep_points("fake://", "peft_rank", "peft.alpha", "ndcg@10", None)


def test_plot_sweep_command_writes_the_plot_and_its_points(fake_mlflow, tmp_path, capsys):
    results = tmp_path / "results"
    assert (
        main(
            [
                "plot-sweep",
                "--experiment",
                "peft_rank",
                "--x",
                "peft.r",
                "--series",
                "peft.target_modules",
                "--tracking-uri",
                "fake://",
                "--results-dir",
                str(results),
                "--log-x",
            ]
        )
        == 0
    )
    out = results / "peft_rank" / "ndcg_at_10_vs_peft.r.png"
    assert out.read_bytes().startswith(b"\x89PNG")
    assert json.loads(out.with_suffix(".json").read_text())["points"]["qv"] == [[2.0, 0.4], [8.0, 0.5]]
    printed = capsys.readouterr().out
    assert "qv: 2.0=0.4000, 8.0=0.5000" in printed and f"plot: {out}" in printed
    assert sweep_plot.series_order("16") < sweep_plot.series_order("4-x") and sweep_plot.series_order(
        "2"
    ) < sweep_plot.series_order("16")


def test_python_m_harness_cli(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["harness", "--help"])
    monkeypatch.delitem(sys.modules, "harness.cli.__main__", raising=False)
    with pytest.raises(SystemExit) as done:  # what `python -m harness.cli --help` runs
        importlib.import_module("harness.cli.__main__")
    assert done.value.code == 0 and "harness run" in capsys.readouterr().out
