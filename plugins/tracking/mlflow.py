"""``tracking=mlflow``: MLflow, with an embedded SQLite store under results/ by default.

Uses ``MlflowClient`` rather than the fluent ``mlflow.start_run`` API: no
global active run, so in-process sweeps and parallel jobs cannot log into each
other's runs.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from harness.components import TrackedRun, Tracker, option
from harness.hookspecs import hookimpl

# MLflow logs at INFO through its own handler (two lines each time it creates a store), whatever the
# run's logging config says; a user who wants them sets MLFLOW_LOGGING_LEVEL=INFO.
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")

MAX_BATCH = 100  # MLflow's limit of params per log_batch call


def mlflow_metric_name(name: str) -> str:
    """MLflow metric names allow letters, digits, '_-. :/' only: 'ndcg@10' -> 'ndcg_at_10'."""
    return re.sub(r"[^A-Za-z0-9_\-. :/]", "_", name.replace("@", "_at_"))


def default_tracking_uri(results_dir: Path) -> str:
    return f"sqlite:///{Path(results_dir).resolve() / 'mlflow.db'}"


def create_store_once(db: Path) -> None:
    """Create the embedded SQLite store whole or not at all.

    MLflow builds a new store in many steps (create the tables, then migrate them); a job killed among them
    left a store no later job could open ("table ... already exists"). So the store is built under a
    temporary name beside it and hard-linked into place only if no other job got there first."""
    if db.exists():
        return
    from mlflow.store.tracking import DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    db.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_builds(db)
    tmp = db.with_name(f".{db.name}.{os.getpid()}.tmp")
    remove_build(tmp)
    try:
        # The artifact root MlflowClient gives a new SQLite store (only the Default experiment uses it).
        SqlAlchemyStore(f"sqlite:///{tmp}", DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH).engine.dispose()
        os.link(tmp, db)
    except FileExistsError:
        pass  # another job created the store meanwhile: it is used as it is
    finally:
        remove_build(tmp)


def remove_build(tmp: Path) -> None:
    """A temporary store and SQLite's files beside it."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        tmp.with_name(tmp.name + suffix).unlink(missing_ok=True)


def remove_dead_builds(db: Path) -> None:
    """Remove the temporary stores of builders that were killed (their pid is gone)."""
    for tmp in db.parent.glob(f".{db.name}.*.tmp"):
        pid = tmp.name.removeprefix(f".{db.name}.").removesuffix(".tmp")
        if pid.isdigit() and not pid_alive(int(pid)):
            remove_build(tmp)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return True


@dataclass
class MlflowConfig:
    tracking_uri: Optional[str] = option(None, "any MLflow tracking URI; null = sqlite store in results/mlflow.db")


class MlflowRun(TrackedRun):
    def __init__(self, client: Any, run_id: str):
        self.client, self.run_id = client, run_id

    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(mlflow_metric_name(k), float(v), now, step or 0) for k, v in metrics.items()]
        for start in range(0, len(batch), MAX_BATCH):
            self.client.log_batch(self.run_id, metrics=batch[start : start + MAX_BATCH])

    def log_artifacts(self, folder: Path) -> None:
        self.client.log_artifacts(self.run_id, str(folder))

    def finish(self, status: str) -> None:
        self.client.set_terminated(self.run_id, status=status)


class MlflowTracker(Tracker):
    Config = MlflowConfig
    # For the reports that read MLflow runs back (harness plot-sweep), through the registry.
    metric_name = staticmethod(mlflow_metric_name)
    default_uri = staticmethod(default_tracking_uri)

    def tracking_uri(self) -> str:
        if self.config.tracking_uri:
            return self.config.tracking_uri
        create_store_once(Path(self.context.results_dir).resolve() / "mlflow.db")
        return default_tracking_uri(self.context.results_dir)

    def start(self, experiment: str, run_name: str, params: Mapping[str, Any], tags: Mapping[str, str]) -> MlflowRun:
        from mlflow import MlflowClient
        from mlflow.entities import Param, RunTag

        uri = self.tracking_uri()
        client = MlflowClient(tracking_uri=uri)
        found = client.get_experiment_by_name(experiment)
        if found is None:
            # The embedded store keeps artifacts beside it; a server decides for itself.
            location = None
            if not self.config.tracking_uri:
                location = (Path(self.context.results_dir).resolve() / "mlartifacts").as_uri()
            experiment_id = client.create_experiment(experiment, artifact_location=location)
        else:
            experiment_id = found.experiment_id
        run = client.create_run(experiment_id, run_name=run_name, tags=dict(tags))
        batch = [Param(k, str(v)[:6000]) for k, v in params.items()]
        for start in range(0, len(batch), MAX_BATCH):
            client.log_batch(run.info.run_id, params=batch[start : start + MAX_BATCH])
        client.log_batch(run.info.run_id, tags=[RunTag("harness.tracking_uri", uri)])
        return MlflowRun(client, run.info.run_id)

    def find_runs(self, experiment: str, config_hash: str) -> list[dict[str, str]]:
        """Runs of ``experiment`` tagged with ``config_hash`` (used by harness.resume)."""
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=self.tracking_uri())
        found = client.get_experiment_by_name(experiment)
        if found is None:
            return []
        runs = client.search_runs([found.experiment_id], f"tags.`harness.config_hash` = '{config_hash}'", max_results=1000)
        return [{"run_id": r.info.run_id, "status": r.info.status} for r in runs]

    def set_status(self, run_id: str, status: str) -> None:
        from mlflow import MlflowClient

        MlflowClient(tracking_uri=self.tracking_uri()).set_terminated(run_id, status=status)


@hookimpl
def harness_add_trackers():
    return {"mlflow": MlflowTracker}
