"""From `harness plugins new` to a tracked run, as a plugin author would do it (issue 7 acceptance).

The generated package is installed with `pip install --no-deps --target` and
found through PYTHONPATH (its dist-info carries the entry point), so the dev
environment stays clean. The run uses a miniature msmarco-passage-mini written
here, where the reranker's word overlap lifts each judged passage to rank 1.
"""

import importlib.util
import json
import os
import subprocess
import re
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # pip-installs packages and runs `harness` in subprocesses

# Build the plugin with the venv's own setuptools where it has one (offline, fast),
# else in pip's isolated build environment.
NO_ISOLATION = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []

# query -> (text, [(doc_id, text, first-stage score, relevance)]): the relevant
# passage is ranked last by the first stage but shares the most query words.
TINY = {
    "101": (
        "where do cats sit",
        [
            ("d1", "Paris is the capital of France.", 10.0, 0),
            ("d2", "Dogs bark loudly at night.", 9.0, 0),
            ("d3", "Where cats sit: cats sit on warm mats.", 8.0, 2),
        ],
    ),
    "102": (
        "how does rank fusion work",
        [
            ("d4", "Tea grows on hills.", 7.0, 0),
            ("d5", "Rank fusion: how the rankings of systems work together.", 6.5, 2),
            ("d1", "Paris is the capital of France.", 6.0, 0),
        ],
    ),
}


def write_tiny_msmarco(root: Path) -> Path:
    folder = root / "msmarco-passage-mini"
    folder.mkdir(parents=True)
    docs = {d: text for _, ranked in TINY.values() for d, text, _, _ in ranked}
    (folder / "collection.tsv").write_text("".join(f"{d}\t{t}\n" for d, t in sorted(docs.items())))
    for year in ("19", "20"):
        topics = "topics.dl19-passage.txt" if year == "19" else "topics.dl20.txt"
        (folder / topics).write_text("".join(f"{q}\t{text}\n" for q, (text, _) in TINY.items()))
        (folder / f"qrels.dl{year}-passage.txt").write_text(
            "".join(f"{q} Q0 {d} {rel}\n" for q, (_, ranked) in TINY.items() for d, _, _, rel in ranked)
        )
        (folder / f"run.dl{year}.bm25-top100.trec").write_text(
            "".join(
                f"{q} Q0 {d} {rank} {score} bm25\n"
                for q, (_, ranked) in TINY.items()
                for rank, (d, _, score, _) in enumerate(ranked, 1)
            )
        )
    return root


def env_with(tmp_path: Path, site: Path | None) -> dict:
    env = dict(
        os.environ,
        HARNESS_DATA_ROOT=str(tmp_path / "data"),
        IR_DATASETS_HOME=str(tmp_path / "irds"),
        HF_HUB_OFFLINE="1",
        MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false",
    )
    if site:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return env


def sh(args: list, cwd: Path, env: dict, timeout: int = 300) -> str:
    out = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(map(str, args))} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def harness(*args) -> list:
    return [sys.executable, "-m", "harness.cli", *args]


def mlflow_runs(results: Path, experiment: str) -> list:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{results / 'mlflow.db'}")
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no MLflow experiment '{experiment}' in {results}"
    return client.search_runs([found.experiment_id])


def test_new_reranker_installs_passes_its_tests_and_runs_tracked(tmp_path):
    write_tiny_msmarco(tmp_path / "data")
    site = tmp_path / "site"
    env = env_with(tmp_path, site)
    sh(harness("plugins", "new", "my_reranker", "--kind", "reranker"), tmp_path, env)
    package = tmp_path / "my_reranker"
    sh([sys.executable, "-m", "pip", "install", "-q", "--no-deps", *NO_ISOLATION, "--target", site, package], tmp_path, env)
    tests = sh([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], package, env)
    assert "6 passed" in tests
    listing = sh(harness("plugins", "list"), tmp_path, env)
    assert re.search(r"^my_reranker +my-reranker 0\.1\.0\n    reranker:my_reranker\n", listing, re.M), listing
    results = tmp_path / "results"
    sh(
        harness(
            "run",
            "reranker=my_reranker",
            "retriever=run",
            "experiment_name=authoring",
            f"results_dir={results}",
            "show_progress=false",
        ),
        tmp_path,
        env,
    )
    [run] = mlflow_runs(results, "authoring")
    assert run.info.status == "FINISHED"
    assert run.data.tags["harness.system"] == "run+my_reranker"
    assert run.data.params["reranker.name"] == "my_reranker"
    # Word overlap lifts each query's one relevant passage from rank 3 or 2 to rank 1.
    assert run.data.metrics["ndcg_at_10"] == pytest.approx(1.0)
    assert run.data.metrics["mrr_at_10"] == pytest.approx(1.0)


def read_trec(path: Path) -> dict:
    run: dict = {}
    for line in path.read_text().splitlines():
        qid, _, doc, _, score, _ = line.split()
        run.setdefault(qid, {})[doc] = float(score)
    return run


def test_rrf_example_plugin_in_a_sweep(tmp_path):
    """examples/harness-rrf (installed by scripts/setup.sh) fuses the official run with bm25s's, sweeping k."""
    pytest.importorskip("harness_rrf", reason="pip install -e examples/harness-rrf (scripts/setup.sh does)")
    write_tiny_msmarco(tmp_path / "data")
    results = tmp_path / "results"
    sh(
        harness(
            "run",
            "-m",
            "retriever=run",
            "reranker=rrf",
            "reranker.k=1,60",
            "tracking=none",
            "experiment_name=rrf",
            f"results_dir={results}",
            "show_progress=false",
        ),
        tmp_path,
        env_with(tmp_path, None),
    )

    folders = sorted((results / "rrf").iterdir())
    assert len(folders) == 2
    for folder in folders:
        config = (folder / "config.yaml").read_text()
        k = 1 if "k: 1\n" in config else 60
        run = read_trec(folder / "run.trec")
        # bm25s finds only d3 for 101 and d5 for 102 (the others share no query term):
        # RRF adds 1/(k+1) to the official run's 1/(k+rank), lifting both to rank 1.
        assert run["101"]["d3"] == pytest.approx(1 / (k + 3) + 1 / (k + 1), rel=1e-4)
        assert run["102"]["d5"] == pytest.approx(1 / (k + 2) + 1 / (k + 1), rel=1e-4)
        assert run["101"]["d1"] == pytest.approx(1 / (k + 1), rel=1e-4)
        assert json.loads((folder / "metrics.json").read_text())["ndcg@10"] == pytest.approx(1.0)
    infos = [json.loads((f / "run_info.json").read_text()) for f in folders]
    assert sorted(info["cache"].get("retrieve.hit", 0) for info in infos) == [0, 2]  # first stages computed once
