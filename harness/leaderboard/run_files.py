"""External TREC run files as leaderboard entries, scored on a dataset's own qrels."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from harness.leaderboard.entries import Entry


def binary_level(dataset_id: str, given: Optional[int]) -> int:
    """The convention of ``harness evaluate``: TREC DL counts rel >= 2 as relevant."""
    if given is not None:
        return given
    return 2 if "trec-dl" in dataset_id else 1


def parse_spec(spec: str) -> tuple[Path, str]:
    """``path`` or ``path=name``."""
    path, _, name = spec.partition("=")
    return Path(path), name or Path(path).stem


def from_run_files(specs: list[str], dataset_id: str, metrics: list[str], level: int,
                   data_root: Optional[str] = None) -> list[Entry]:
    from harness import datasets
    from harness.evaluation import evaluate
    from harness.plugin_manager import get_plugin_manager
    from harness.trec_io import read_run

    dataset = datasets.load(dataset_id, get_plugin_manager(), datasets.resolve_data_root(data_root))
    qrels = datasets.qrels(dataset, dataset_id)
    entries = []
    for spec in specs:
        path, name = parse_spec(spec)
        result = evaluate(qrels, read_run(path), metrics, level)
        entries.append(Entry(name=name, source=f"run file:{path}", dataset=dataset_id,
                             mean=result.mean, per_query=result.per_query))
    return entries
