"""Fixtures of the sweep and leaderboard tests: tiny data, a plugin, subprocess sweeps."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
WORDS = (
    "neural ranking bert passage query retrieval lexical dense sparse index vector "
    "model train adapter lora rank token score match term corpus"
).split()


def write_tiny_msmarco(root: Path, docs: int = 60, queries: int = 6) -> Path:
    """A tiny dataset laid out like msmarco-passage-mini, so the built-in plugin registers it."""
    rng = random.Random(7)
    folder = root / "msmarco-passage-mini"
    folder.mkdir(parents=True)
    texts = {str(pid): " ".join(rng.choices(WORDS, k=12)) for pid in range(docs)}
    (folder / "collection.tsv").write_text("".join(f"{pid}\t{text}\n" for pid, text in texts.items()))
    for short, name in (("19", "topics.dl19-passage.txt"), ("20", "topics.dl20.txt")):
        topics = {str(1000 * int(short) + i): " ".join(rng.sample(WORDS, 3)) for i in range(queries)}
        (folder / name).write_text("".join(f"{qid}\t{text}\n" for qid, text in topics.items()))
        qrels, run = [], []
        for qid, text in topics.items():
            terms = set(text.split())
            overlap = sorted(texts, key=lambda pid: (-len(terms & set(texts[pid].split())), int(pid)))
            for rank, pid in enumerate(overlap[:20]):
                run.append(f"{qid} Q0 {pid} {rank + 1} {20 - rank + rng.random():.4f} bm25\n")
            for pid in rng.sample(list(texts), 15):
                qrels.append(f"{qid} 0 {pid} {rng.randint(0, 3)}\n")
        (folder / f"qrels.dl{short}-passage.txt").write_text("".join(qrels))
        (folder / f"run.dl{short}.bm25-top100.trec").write_text("".join(run))
    return root


def install_overlap_plugin(site: Path) -> Path:
    """Install tests/sweeps/overlap_reranker_plugin.py as a distribution with an entry point."""
    site.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "overlap_reranker_plugin.py", site / "harness_overlap_reranker.py")
    conf = site / "overlap_conf" / "reranker"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "overlap.yaml").write_text("name: overlap\nweight: 0.0\ntop_k: 100\ndelay: 0.0\n")
    info = site / "harness_overlap_reranker-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: harness-overlap-reranker\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[harness.plugins]\noverlap = harness_overlap_reranker\n")
    return site


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> Path:
    return write_tiny_msmarco(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory) -> Path:
    return install_overlap_plugin(tmp_path_factory.mktemp("site"))


def sweep_environment(tiny_root: Path, plugin_site: Path, irds_home: Path) -> dict[str, str]:
    """The environment of a ``harness run`` subprocess on the tiny data, with the overlap plugin installed."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(plugin_site), env.get("PYTHONPATH")])),
        HARNESS_DATA_ROOT=str(tiny_root),
        IR_DATASETS_HOME=str(irds_home),
        HF_HUB_OFFLINE="1",
        HYDRA_FULL_ERROR="1",
    )
    return env


@pytest.fixture()
def sweep_env(tiny_root, plugin_site, tmp_path) -> dict[str, str]:
    return sweep_environment(tiny_root, plugin_site, tmp_path / "irds")


def harness_command(results: Path, *overrides: str) -> list[str]:
    flags = [o for o in overrides if o.startswith("-")]  # Hydra wants -m before the overrides
    return [
        sys.executable,
        "-m",
        "harness.cli",
        "run",
        *flags,
        f"results_dir={results}",
        "show_progress=false",
        *(o for o in overrides if not o.startswith("-")),
    ]


def run_harness(env: dict[str, str], results: Path, *overrides: str, timeout: int = 300):
    done = subprocess.run(harness_command(results, *overrides), env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-4000:]
    return done


class HarnessCli:
    """``harness run`` in a subprocess, with the tiny data and the overlap plugin."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def command(self, results: Path, *overrides: str) -> list[str]:
        return harness_command(results, *overrides)

    @staticmethod
    def free_port() -> int:
        return free_port()

    def run(self, results: Path, *overrides: str, timeout: int = 300):
        return run_harness(self.env, results, *overrides, timeout=timeout)


@pytest.fixture()
def cli(sweep_env) -> HarnessCli:
    return HarnessCli(sweep_env)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real ``mlflow server`` on loopback, with its own store and artifact folder."""
    import time
    import urllib.request

    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    mlflow = Path(sys.executable).with_name("mlflow")
    proc = subprocess.Popen(
        [
            str(mlflow),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
        ],
        stdout=open(root / "server.log", "w"),
        stderr=subprocess.STDOUT,
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"mlflow server did not start: {(root / 'server.log').read_text()[-2000:]}")
        time.sleep(0.5)
    yield uri
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
