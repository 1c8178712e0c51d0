"""``harness compare A B``: two systems query by query (MLflow runs or TREC run files).

A and B are each an MLflow run id (or a unique prefix of one, as the
leaderboard's source column shows) or a TREC run file, scored on the qrels of
the dataset (the runs' ``harness.dataset`` tag, or ``--dataset``). Prints the
queries where B gains most over A and loses most, with their text and both
scores; the wins/ties/losses; the mean difference with its paired bootstrap
95% CI and the paired p-values; and writes a sorted bar plot of the per-query
differences (B - A).
"""

from __future__ import annotations

import argparse
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from harness.errors import ConfigError, DataError

logger = logging.getLogger(__name__)


@dataclass
class Side:
    spec: str
    label: str
    dataset: str = ""  # known for tracked runs
    scores: Optional[dict[str, float]] = None  # query -> metric (tracked runs: from per_query.json)
    run: Optional[dict] = None  # a run file's run, scored once the dataset is known
    level: Optional[int] = None  # the binary relevance level a tracked run was evaluated at


def add_parser(sub) -> argparse.ArgumentParser:
    cp = sub.add_parser(
        "compare",
        usage="harness compare A B [OPTIONS]",
        help="two systems query by query: largest gains and losses, W/T/L, CI, plot",
    )
    cp.add_argument("a", metavar="A", help="the reference: an MLflow run id (or unique prefix) or a TREC run file")
    cp.add_argument("b", metavar="B", help="the system compared with A, likewise")
    cp.add_argument("--dataset", default=None, help="dataset id (needed when both are run files)")
    cp.add_argument("--metric", default="ndcg@10")
    cp.add_argument("--top", type=int, default=10, help="how many largest gains and losses to list (default 10)")
    cp.add_argument(
        "--plot",
        default=None,
        metavar="PNG",
        help="where to write the per-query difference plot (default: results/compare/A_vs_B_METRIC.png "
        "where results/ exists, else the current folder)",
    )
    cp.add_argument("--tracking-uri", default=None, help="default: sqlite store in results/mlflow.db")
    cp.add_argument(
        "--binary-relevance-level",
        type=int,
        default=None,
        help="for run files: binary measures count rel >= this (default: the tracked run's, else 2 for TREC DL ids, else 1)",
    )
    cp.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples of the 95%% CI")
    cp.add_argument("--permutations", type=int, default=1000, help="Fisher randomization permutations")
    cp.add_argument("--seed", type=int, default=42)
    cp.add_argument("--data-root", default=None)
    return cp


def _tracked(client, spec: str, uri: str, metric: str, folder: Path) -> Side:
    import json

    from harness.reports.leaderboard.names import system_name

    run = _find_run(client, spec, uri)
    try:
        path = client.download_artifacts(run.info.run_id, "per_query.json", str(folder))
    except Exception as exc:  # MLflow raises many kinds for a missing artifact
        raise DataError(f"compare: run {run.info.run_id} has no per_query.json artifact ({type(exc).__name__})") from None
    per_query = json.loads(Path(path).read_text())
    if metric not in per_query:
        raise ConfigError(
            f"compare: run {run.info.run_id} has no per-query '{metric}'; it has {', '.join(sorted(per_query)) or 'none'}"
        )
    dataset = run.data.tags.get("harness.dataset", "")
    level = run.data.params.get("dataset.binary_relevance_level", "")
    name = system_name(run.data.params, dataset, run.info.run_name or "")
    return Side(
        spec, f"{name} ({run.info.run_id[:8]})", dataset, per_query[metric], level=int(level) if level.isdigit() else None
    )


def _find_run(client, spec: str, uri: str):
    try:
        return client.get_run(spec)
    except Exception:  # not a full run id: a unique prefix of one?
        pass
    experiments = [e.experiment_id for e in client.search_experiments()]
    found = (
        [r for r in client.search_runs(experiments, max_results=50000) if r.info.run_id.startswith(spec)]
        if experiments and re.fullmatch(r"[0-9a-f]{4,32}", spec)
        else []
    )
    if len(found) != 1:
        raise ConfigError(
            f"compare: {spec!r} is neither a file nor {'a unique prefix of ' if found else ''}"
            f"an MLflow run id at {uri}" + (f" ({len(found)} runs match)" if found else "")
        )
    return found[0]


def sides(args) -> tuple[Side, Side]:
    import tempfile

    from harness.data.trec_io import read_run

    uri = args.tracking_uri or f"sqlite:///{Path('results/mlflow.db').resolve()}"
    out, client = [], None
    with tempfile.TemporaryDirectory(prefix="harness-compare-") as tmp:
        for number, spec in enumerate((args.a, args.b)):
            if Path(spec).is_file():
                out.append(Side(spec, Path(spec).stem, run=read_run(Path(spec))))
                continue
            if not args.tracking_uri and not Path("results/mlflow.db").is_file():
                raise ConfigError(
                    f"compare: {spec!r} is not a file, and there is no MLflow store at results/mlflow.db (give --tracking-uri)"
                )
            if client is None:
                from mlflow import MlflowClient

                client = MlflowClient(tracking_uri=uri)
            out.append(_tracked(client, spec, uri, args.metric, Path(tmp) / str(number)))
    if out[0].label == out[1].label:
        out[0].label, out[1].label = f"A: {out[0].label}", f"B: {out[1].label}"
    return out[0], out[1]


def dataset_of(a: Side, b: Side, given: Optional[str]) -> str:
    found = {s.dataset for s in (a, b) if s.dataset} | ({given} if given else set())
    if len(found) > 1:
        raise ConfigError(
            f"compare: the two are on different datasets ({', '.join(sorted(found))}); a per-query comparison needs one dataset"
        )
    if not found:
        raise ConfigError("compare: run files need --dataset (the qrels to score them on)")
    return found.pop()


def score_run_files(a: Side, b: Side, dataset_id: str, args) -> dict[str, str]:
    """Score the run files on the dataset's qrels; return the query texts (empty where they cannot be read)."""
    from harness.data import datasets
    from harness.evaluation import evaluate, require_overlap
    from harness.errors import HarnessError
    from harness.reports.leaderboard.run_files import binary_level
    from harness.plugin_manager import get_plugin_manager

    needs_qrels = any(s.run is not None for s in (a, b))
    try:
        dataset = datasets.load(dataset_id, get_plugin_manager(), datasets.resolve_data_root(args.data_root))
        texts = datasets.query_texts(datasets.queries(dataset, dataset_id))
    except HarnessError as exc:
        if needs_qrels:
            raise
        logger.warning("compare: query texts of %s not available (%s)", dataset_id, exc)
        return {}
    if needs_qrels:
        qrels = datasets.qrels(dataset, dataset_id)
        level = binary_level(
            dataset_id, args.binary_relevance_level if args.binary_relevance_level is not None else (a.level or b.level)
        )
        for side in (a, b):
            if side.run is not None:
                require_overlap(side.run, qrels, side.spec, dataset_id)
                side.scores = evaluate(qrels, side.run, [args.metric], level).per_query[args.metric]
    return texts


def default_plot(a: Side, b: Side, metric: str) -> Path:
    def safe(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:40] or "run"

    name = f"{safe(a.label)}_vs_{safe(b.label)}_{safe(metric)}.png"
    return Path("results") / "compare" / name if Path("results").is_dir() else Path(name)


def run(args) -> int:
    import os

    from harness.reports.leaderboard.compare_report import report

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # a bar per artifact is noise here
    if args.top < 1 or args.resamples < 1 or args.permutations < 1:
        raise ConfigError("compare: --top, --resamples and --permutations must be at least 1")
    a, b = sides(args)
    dataset_id = dataset_of(a, b, args.dataset)
    texts = score_run_files(a, b, dataset_id, args)
    a_scores, b_scores = a.scores or {}, b.scores or {}  # both set by score_run_files
    shared = sorted(set(a_scores) & set(b_scores))
    if not shared:
        raise DataError(
            f"compare: {a.label} and {b.label} share no query on {dataset_id} (A: {len(a_scores)} queries, B: {len(b_scores)})"
        )
    plot = Path(args.plot) if args.plot else default_plot(a, b, args.metric)
    print(report(a, b, shared, texts, dataset_id, args, plot))
    return 0
