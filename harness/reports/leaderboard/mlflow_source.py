"""Leaderboard entries from any MLflow tracking URI (local store or a server)."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Optional

from harness.errors import ConfigError
from harness.reports.leaderboard.bootstrap import top_documents
from harness.reports.leaderboard.entries import Entry
from harness.reports.leaderboard.names import builds_on_stage, first_stage_key, system_name

logger = logging.getLogger(__name__)
LATENCY_WORDS = ("latency",)
PARAM_WORDS = ("trainable_params", "trainable_parameters")


def _filter(dataset: Optional[str], tags: Mapping[str, str]) -> str:
    clauses = ["attributes.status = 'FINISHED'"]
    if dataset:
        clauses.append(f"tags.`harness.dataset` = '{dataset}'")
    clauses += [f"tags.`{key}` = '{value}'" for key, value in tags.items()]
    return " and ".join(clauses)


def _first(values: Mapping[str, str], words: Iterable[str]) -> Optional[float]:
    for name, value in sorted(values.items()):
        if any(word in name.lower() for word in words):
            try:
                return float(value)
            except ValueError:
                continue
    return None


def _level(value: Optional[str]) -> Optional[int]:
    return int(value) if value and value.isdigit() else None


def _top(client, run, folder: Path) -> dict[str, list[str]]:
    """The run's top-10 documents per query from its run.trec artifact ({} without one: judged@10 unknown)."""
    from harness.data.trec_io import read_run

    try:
        return top_documents(read_run(Path(client.download_artifacts(run.info.run_id, "run.trec", str(folder)))))
    except Exception as exc:  # no run.trec (an older run, a RAG-only run): judged@10 is left blank
        logger.info(
            "leaderboard: run %s has no readable run.trec (%s); judged@10 left blank", run.info.run_id, type(exc).__name__
        )
        return {}


def _entry(client, run, experiment: str, folder: Path) -> Optional[Entry]:
    try:
        path = client.download_artifacts(run.info.run_id, "per_query.json", str(folder))
    except Exception as exc:  # a run without the artifact cannot be tested; say so and go on
        logger.warning(
            "leaderboard: run %s (%s) has no per_query.json artifact; skipped (%s)",
            run.info.run_name,
            run.info.run_id,
            type(exc).__name__,
        )
        return None
    per_query = json.loads(Path(path).read_text())
    mean = {m: sum(v.values()) / len(v) for m, v in per_query.items() if v}
    metrics, params = run.data.metrics, run.data.params
    latency = _first(metrics, LATENCY_WORDS)
    if latency is None and run.info.end_time and run.info.start_time:
        latency = (run.info.end_time - run.info.start_time) / 1000.0
    trainable = _first(metrics, PARAM_WORDS)
    trainable = trainable if trainable is not None else _first(params, PARAM_WORDS)
    dataset = run.data.tags.get("harness.dataset", "")
    stage = first_stage_key(params, dataset)
    upstream = builds_on_stage(params)
    return Entry(
        name=system_name(params, dataset, run.info.run_name or run.info.run_id[:8]),
        source=f"mlflow:{experiment}/{run.info.run_id[:8]}",
        dataset=dataset,
        mean=mean,
        per_query=per_query,
        latency=latency,
        trainable_params=trainable,
        extra=dict(metrics),
        tags=dict(run.data.tags),
        relevance_level=_level(params.get("dataset.binary_relevance_level")),
        params=dict(params),
        run_id=run.info.run_id,
        stage=None if upstream else stage,
        upstream=stage if upstream else None,
        top=_top(client, run, folder),
    )


def from_mlflow(
    tracking_uri: str, experiments: Iterable[str] = (), dataset: Optional[str] = None, tags: Mapping[str, str] | None = None
) -> list[Entry]:
    """FINISHED runs of ``experiments`` (all when empty); the newest run per config hash."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    wanted = list(experiments)
    found = [client.get_experiment_by_name(name) for name in wanted] if wanted else client.search_experiments()
    missing = [name for name, exp in zip(wanted, found) if exp is None]
    if missing:
        raise ConfigError(f"leaderboard: no experiment named {', '.join(missing)} at {tracking_uri}")
    names = {exp.experiment_id: exp.name for exp in found if exp is not None}
    runs = client.search_runs(
        list(names), _filter(dataset, tags or {}), max_results=5000, order_by=["attributes.start_time DESC"]
    )
    entries, seen = [], set()
    with tempfile.TemporaryDirectory(prefix="harness-leaderboard-") as tmp:
        for number, run in enumerate(runs):
            digest = run.data.tags.get("harness.config_hash", run.info.run_id)
            if digest in seen:
                continue
            seen.add(digest)
            entry = _entry(client, run, names[run.info.experiment_id], Path(tmp) / str(number))
            if entry:
                entries.append(entry)
    logger.info("leaderboard: %d entries from %d runs at %s", len(entries), len(runs), tracking_uri)
    return entries
