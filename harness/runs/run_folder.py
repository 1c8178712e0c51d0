"""A run folder's own evaluation settings, to evaluate its ``run.trec`` as the run did.

``harness evaluate results/<experiment>/<run>/run.trec --dataset D`` takes the
binary relevance level and the evaluated queries (``dataset.query_limit``) from
the folder's ``config.yaml`` when D is the run's dataset, and so reproduces its
``metrics.json`` exactly. The test suite checks that for every run it makes
(``tests/conftest.py``) through :func:`reproduce`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from harness.errors import DataError

FILES = ("run.trec", "config.yaml", "metrics.json")


def default_binary_level(dataset_id: str) -> int:
    """The convention for a dataset without a run's config: TREC DL counts rel >= 2 as relevant."""
    return 2 if "trec-dl" in dataset_id else 1


@dataclass(frozen=True)
class RunFolder:
    path: Path
    config: dict[str, Any]
    metrics: dict[str, float]
    info: dict[str, Any]

    @classmethod
    def of(cls, run_file: Path) -> "RunFolder | None":
        """The run folder whose ``run.trec`` is ``run_file``; None for any other file."""
        folder = Path(run_file).parent
        if Path(run_file).name != "run.trec" or not all((folder / name).is_file() for name in FILES):
            return None
        config = _read(folder / "config.yaml", _yaml)
        if not isinstance(config.get("dataset"), Mapping) or "id" not in config["dataset"]:
            raise DataError(f"{folder / 'config.yaml'}: not a harness run config (no dataset.id)")
        info = _read(folder / "run_info.json", json.loads) if (folder / "run_info.json").is_file() else {}
        return cls(folder, config, _read(folder / "metrics.json", json.loads), info)

    @property
    def dataset_id(self) -> str:
        return str(self.config["dataset"]["id"])

    @property
    def binary_relevance_level(self) -> int:
        return int(self.config["dataset"].get("binary_relevance_level", 1))

    @property
    def query_limit(self) -> int | None:
        return self.config["dataset"].get("query_limit") or None

    @property
    def data_root(self) -> str | None:
        """Where the run read its data (run_info.json records the resolved root)."""
        return self.info.get("data_root") or self.config.get("data_root")

    def evaluated_qrels(self, dataset: Any, qrels: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        """The qrels the run was evaluated on: with a query limit, those of its first queries only."""
        from harness.data import datasets

        if not self.query_limit:
            return qrels
        only = set(qrels) if self.config["dataset"].get("judged_only", True) else None
        kept = {q.query_id for q in datasets.queries(dataset, self.dataset_id, self.query_limit, only=only)}
        return {qid: rels for qid, rels in qrels.items() if qid in kept}


def _yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:  # its message names line and column
        raise ValueError(f"not valid YAML: {exc}") from None


def _read(path: Path, parse) -> dict:
    try:
        value = parse(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise DataError(f"{path}: cannot read this run folder file ({exc})") from None
    if not isinstance(value, dict):
        raise DataError(f"{path}: expected a mapping, got {type(value).__name__}")
    return value


def evaluated_qrels(folder: RunFolder, pm) -> dict[str, dict[str, int]]:
    """The qrels the run was evaluated on, loaded again from its dataset and data root."""
    from harness.data import datasets

    dataset = datasets.load(folder.dataset_id, pm, datasets.resolve_data_root(folder.data_root))
    return folder.evaluated_qrels(dataset, datasets.qrels(dataset, folder.dataset_id))


def reproduce(folder: RunFolder, qrels: dict[str, dict[str, int]], pm) -> dict[str, tuple[float, float]]:
    """``metric -> (metrics.json's value, the value re-computed from run.trec)`` for the run's IR metrics.

    Custom metrics (Metric components, also those of a plugin not installed
    here) and the RAG rates are not computed from run.trec alone: left out.
    """
    from harness.evaluation import evaluate, is_ranx_metric
    from harness.registry import ComponentRegistry
    from harness.data.trec_io import read_run

    custom = set(ComponentRegistry(pm).names("metric"))
    wanted = (folder.config.get("evaluation") or {}).get("metrics") or []
    metrics = [m for m in wanted if m in folder.metrics and m not in custom and is_ranx_metric(m)]
    again = evaluate(qrels, read_run(folder.path / "run.trec"), metrics, folder.binary_relevance_level)
    return {m: (float(folder.metrics[m]), again.mean[m]) for m in metrics}
