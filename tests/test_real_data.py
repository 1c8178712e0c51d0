"""Acceptance on the real msmarco-passage-mini (skips where ../shared/data is absent)."""

import json
import subprocess
import sys

import pytest
import pytrec_eval
from mlflow import MlflowClient

from harness.data.trec_io import ranked, read_qrels, read_run

pytestmark = pytest.mark.slow


def harness(*args, cwd, env=None):
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=900, env=env
    )
    assert out.returncode == 0, out.stderr[-4000:]
    return out


@pytest.fixture()
def env(real_root, tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_DATA_ROOT", str(real_root))
    monkeypatch.setenv("IR_DATASETS_HOME", str(tmp_path / "irds"))


def test_official_bm25_reproduces_published_ndcg(env, tmp_path):
    results = tmp_path / "results"
    harness("run", "-m", "experiment=official_bm25", f"results_dir={results}", cwd=tmp_path)
    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("official_bm25").experiment_id])
    by_dataset = {r.data.params["dataset.id"]: r for r in runs}
    for dataset, expected in [("msmarco-passage-mini/trec-dl-2019", 0.5058), ("msmarco-passage-mini/trec-dl-2020", 0.4796)]:
        run = by_dataset[dataset]
        folder = results / "official_bm25" / run.info.run_name
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["ndcg@10"] == pytest.approx(expected, abs=5e-4)
        assert run.data.metrics["ndcg_at_10"] == pytest.approx(metrics["ndcg@10"], abs=1e-12)
        assert run.data.tags["harness.corpus"] == "full"


def test_bm25_over_the_subset_matches_pytrec_eval(env, real_root, tmp_path):
    results = tmp_path / "results"
    out = harness("run", f"results_dir={results}", "tracking=none", "experiment_name=bm25", cwd=tmp_path)
    assert "subset corpus" in out.stdout
    [folder] = (results / "bm25").iterdir()
    assert json.loads((folder / "run_info.json").read_text())["corpus_label"].startswith("subset corpus")
    run_file = folder / "run.trec"
    out = harness("evaluate", str(run_file), "--dataset", "msmarco-passage-mini/trec-dl-2019", "--json", cwd=tmp_path)
    ours = json.loads(out.stdout)

    qrels = read_qrels(real_root / "msmarco-passage-mini" / "qrels.dl19-passage.txt")
    run = read_run(run_file)
    main = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100", "map"}, relevance_level=2).evaluate(run)
    top10 = {q: dict(ranked(d)[:10]) for q, d in run.items()}
    rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}, relevance_level=2).evaluate(top10)
    mean = lambda table, key: sum(v[key] for v in table.values()) / len(qrels)  # noqa: E731
    assert len(run) == len(qrels) == 43
    assert ours["ndcg@10"] == pytest.approx(mean(main, "ndcg_cut_10"), abs=1e-4)
    assert ours["recall@100"] == pytest.approx(mean(main, "recall_100"), abs=1e-4)
    assert ours["map"] == pytest.approx(mean(main, "map"), abs=1e-4)
    assert ours["mrr@10"] == pytest.approx(mean(rr, "recip_rank"), abs=1e-4)
