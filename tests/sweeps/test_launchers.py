"""Two-job sweeps through Hydra's joblib, submitit (local) and Ray (a local cluster on loopback) launchers."""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # Hydra launchers (joblib, submitit, Ray) in subprocesses

SWEEP = ("-m", "retriever=run", "reranker=overlap", "reranker.weight=0,1", "tracking=none")


def finished(results: Path, experiment: str) -> set[str]:
    """Config hashes of the complete run folders of ``experiment``."""
    return {
        json.loads((m.parent / "run_info.json").read_text())["tags"]["harness.config_hash"]
        for m in (results / experiment).glob("*/metrics.json")
    }


def test_joblib_launcher(cli, tmp_path):
    done = cli.run(tmp_path, *SWEEP, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "experiment_name=joblib")
    assert "Joblib.Parallel(n_jobs=2" in done.stdout + done.stderr
    assert len(finished(tmp_path, "joblib")) == 2


def test_submitit_local_launcher(cli, tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    cli.run(tmp_path, *SWEEP, "hydra/launcher=submitit_local", "experiment_name=submitit")
    assert len(finished(tmp_path, "submitit")) == 2
    assert len(list(tmp_path.glob("hydra/multirun-*/.submitit/*/*_result.pkl"))) == 2  # run as submitit jobs


def test_ray_launcher_on_a_local_loopback_cluster(cli, tmp_path):
    """The launcher starts a local Ray cluster bound to 127.0.0.1; its workers run the jobs."""
    if not (importlib.util.find_spec("ray") and importlib.util.find_spec("hydra_plugins.hydra_ray_launcher")):
        pytest.skip("needs the ray extra: pip install -e '.[ray]'")
    # Ray's session folder holds unix sockets (107-byte path limit): a short folder of its own.
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    try:
        done = cli.run(
            tmp_path,
            *SWEEP,
            "hydra/launcher=ray",
            "+hydra.launcher.ray.init._node_ip_address=127.0.0.1",
            "+hydra.launcher.ray.init.include_dashboard=false",
            f"+hydra.launcher.ray.init._temp_dir={temp}",
            "experiment_name=ray",
        )
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    output = done.stdout + done.stderr
    assert "'_node_ip_address': '127.0.0.1'" in output and "Ray Launcher is launching 2 jobs" in output
    assert "(_run_job pid=" in output  # the jobs ran in Ray worker processes
    assert len(finished(tmp_path, "ray")) == 2
