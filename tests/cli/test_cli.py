"""The `harness` command end to end on the tiny dataset: files, MLflow, sweeps, errors."""

import json
import subprocess
import sys
import time

import pytest
import yaml
from mlflow import MlflowClient

from tiny_data import TOPICS

pytestmark = pytest.mark.slow  # every test here runs `harness` in a subprocess


def harness(*args, cwd, timeout=300):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def mlflow_runs(results):
    client = MlflowClient(tracking_uri=f"sqlite:///{results / 'mlflow.db'}")
    experiments = client.search_experiments()
    return client.search_runs([e.experiment_id for e in experiments])


def test_help_is_fast():
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "harness.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "harness run" in out.stdout
    assert time.perf_counter() - started < 5  # generous: the point is no heavy import (measured ~0.05 s)
    probe = (
        "import sys, contextlib, io\nfrom harness.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n    main(['--help'])\n"
        "print(sorted(m for m in ('torch', 'mlflow', 'ranx', 'ir_datasets', 'hydra', 'transformers') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr  # lazy imports: nothing heavy for --help


def test_run_writes_files_and_tracks_in_mlflow(tiny_root, tmp_path):
    results = tmp_path / "results"
    out = harness("run", f"results_dir={results}", "experiment_name=e2e", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ndcg@10" in out.stdout and "subset corpus" in out.stdout
    [run_dir] = (results / "e2e").iterdir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics) == {"ndcg@10", "mrr@10", "recall@100", "map"} and 0 < metrics["ndcg@10"] <= 1
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["retriever"]["k1"] == 0.9
    lines = (run_dir / "run.trec").read_text().splitlines()
    assert {line.split()[0] for line in lines} == set(TOPICS) and len(lines[0].split()) == 6
    per_query = json.loads((run_dir / "per_query.json").read_text())
    assert set(per_query["ndcg@10"]) == set(TOPICS)
    [run] = mlflow_runs(results)
    assert run.info.status == "FINISHED" and run.info.run_name == run_dir.name
    assert run.data.metrics["ndcg_at_10"] == pytest.approx(metrics["ndcg@10"])
    assert run.data.params["retriever.k1"] == "0.9" and run.data.params["dataset.id"].endswith("trec-dl-2019")
    assert run.data.tags["harness.corpus"] == "subset"
    artifacts = {a.path for a in MlflowClient(f"sqlite:///{results / 'mlflow.db'}").list_artifacts(run.info.run_id)}
    assert {"run.trec", "config.yaml", "per_query.json", "metrics.json"} <= artifacts


def test_sweep_gives_one_mlflow_run_per_job(tiny_root, tmp_path):
    results = tmp_path / "results"
    out = harness("run", "-m", "retriever.k1=0.6,0.9,1.2", f"results_dir={results}", "experiment_name=sweep", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    runs = mlflow_runs(results)
    assert sorted(r.data.params["retriever.k1"] for r in runs) == ["0.6", "0.9", "1.2"]
    assert all(r.info.status == "FINISHED" for r in runs)
    assert len(list((results / "sweep").iterdir())) == 3
    plot = harness(
        "plot-sweep",
        "--experiment",
        "sweep",
        "--x",
        "retriever.k1",
        "--metric",
        "ndcg@10",
        "--results-dir",
        str(results),
        cwd=tmp_path,
    )
    assert plot.returncode == 0, plot.stderr
    png = results / "sweep" / "ndcg_at_10_vs_retriever.k1.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    points = json.loads(png.with_suffix(".json").read_text())["points"]["ndcg@10"]
    assert [x for x, _ in points] == [0.6, 0.9, 1.2]
    assert {round(y, 10) for _, y in points} == {round(r.data.metrics["ndcg_at_10"], 10) for r in runs}


def test_run_retriever_is_labelled_comparable(tiny_root, tmp_path):
    out = harness("run", "retriever=run", "tracking=none", f"results_dir={tmp_path}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "comparable" in out.stdout and "subset corpus" not in out.stdout


def test_misspelled_key_is_a_clear_error(tiny_root, tmp_path):
    out = harness("run", "retriever.k11=2", f"results_dir={tmp_path}", cwd=tmp_path)
    assert out.returncode != 0 and "k11" in out.stderr
    out = harness("run", "+retriever.k11=2", "tracking=none", f"results_dir={tmp_path}", cwd=tmp_path)
    assert out.returncode == 2
    assert "retriever=bm25 (retriever 'bm25'): unknown key(s) 'k11'; valid keys: b, k1" in out.stderr


def test_unknown_component_from_the_command_line(tiny_root, tmp_path):
    out = harness("run", "retriever.name=bm52", "tracking=none", f"results_dir={tmp_path}", cwd=tmp_path)
    assert out.returncode == 2 and "unknown retriever 'bm52'; registered retrievers:" in out.stderr


def test_failed_run_is_marked_failed_in_mlflow(tiny_root, tmp_path):
    bad = tmp_path / "bad.trec"
    bad.write_text("101 Q0 1 1 oops tag\n")
    results = tmp_path / "results"
    out = harness("run", "retriever=run", f"retriever.path={bad}", f"results_dir={results}", cwd=tmp_path)
    assert out.returncode == 2 and f"{bad}:1: score 'oops' is not a number" in out.stderr
    [run] = mlflow_runs(results)
    assert run.info.status == "FAILED"


def test_evaluate_command(tiny_root, tmp_path):
    path = tmp_path / "mine.trec"
    path.write_text("101 Q0 4 1 3.0 t\n102 Q0 5 1 2.0 t\n103 Q0 7 1 1.0 t\n104 Q0 10 1 1.0 t\n")
    out = harness("evaluate", str(path), "--dataset", "msmarco-passage-mini/trec-dl-2019", "--metrics", "mrr@10", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "mrr@10        1.0000" in out.stdout and "binary rel >= 2" in out.stdout


def test_plugins_list(tmp_path):
    out = harness("plugins", "list", "-v", cwd=tmp_path)
    assert out.returncode == 0
    assert "retriever:bm25" in out.stdout and "tracking:mlflow" in out.stdout and "k1 = 0.9" in out.stdout


def test_metric_plugins_are_usable_from_harness_run(tiny_root, tmp_path):
    """A metric registered by a plugin (here: a test plugin module on the path) is evaluated by name."""
    plugin = tmp_path / "count_metric_plugin.py"
    plugin.write_text(
        "from harness.components import Metric\nfrom harness.hookspecs import hookimpl\n\n"
        "class Retrieved(Metric):\n    def per_query(self, qrels, run):\n"
        "        return {q: float(len(run.get(q, {}))) for q in qrels}\n\n"
        "@hookimpl\ndef harness_add_metrics():\n    return {'retrieved': Retrieved}\n"
    )
    dist = tmp_path / "count_metric-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: count-metric\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[harness.plugins]\ncount_metric = count_metric_plugin\n")
    import os

    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            "retriever=run",
            "tracking=none",
            f"results_dir={tmp_path / 'r'}",
            "evaluation.metrics=[ndcg@10,retrieved]",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    [folder] = (tmp_path / "r" / "default").iterdir()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["retrieved"] == pytest.approx((3 + 2 + 2 + 1) / 4)  # documents per judged query in RUN


def test_plot_series_sort_ranks_numerically():
    from harness.reports.sweep_plot import series_order

    assert sorted(["16", "2", "qv", "1", "64", "all-linear"], key=series_order) == ["1", "2", "16", "64", "all-linear", "qv"]
