"""External TREC run files as leaderboard entries, scored on a dataset's own qrels."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from harness.errors import ConfigError, DataError
from harness.reports.leaderboard.bootstrap import judged_share, top_documents
from harness.reports.leaderboard.entries import Entry
from harness.reports.leaderboard.names import run_file_key, short_path


def binary_level(dataset_id: str, given: Optional[int]) -> int:
    """``given``, else the convention of ``harness evaluate``: TREC DL counts rel >= 2 as relevant."""
    from harness.runs.run_folder import default_binary_level

    return given if given is not None else default_binary_level(dataset_id)


def parse_spec(spec: str) -> tuple[Path, str]:
    """``PATH`` or ``PATH=NAME``, where PATH may hold '=' itself (as Hydra's sweep folders do).

    The split is where the left side is an existing file; exactly one reading may exist.
    """
    readings = [(spec, "")] + [(spec[:i], spec[i + 1 :]) for i, char in enumerate(spec) if char == "="]
    found = [(Path(path), name) for path, name in readings if path and Path(path).is_file()]
    if not found:
        raise DataError(
            f"leaderboard: --run-file {spec!r}: no such file"
            + (f" (nor {', '.join(repr(p) for p, _ in readings[1:])})" if len(readings) > 1 else "")
        )
    if len(found) > 1:
        raise ConfigError(
            f"leaderboard: --run-file {spec!r} is ambiguous: {', '.join(str(p) for p, _ in found)} "
            "all exist; pass a path that no other reading matches"
        )
    path, name = found[0]
    return path, name or path.stem


def from_run_files(
    specs: list[str], dataset_id: str, metrics: list[str], level: int, data_root: Optional[str] = None
) -> list[Entry]:
    from harness.data import datasets
    from harness.evaluation import evaluate, require_overlap
    from harness.plugin_manager import get_plugin_manager
    from harness.data.trec_io import read_run

    parsed = [parse_spec(spec) for spec in specs]  # every spec checked before the dataset loads
    dataset = datasets.load(dataset_id, get_plugin_manager(), datasets.resolve_data_root(data_root))
    qrels = datasets.qrels(dataset, dataset_id)
    entries = []
    for path, name in parsed:
        run = read_run(path)
        require_overlap(run, qrels, f"--run-file {path}", dataset_id)
        result = evaluate(qrels, run, metrics, level)
        entries.append(
            Entry(
                name=name,
                source=f"run file:{short_path(path)}",
                dataset=dataset_id,
                mean=result.mean,
                per_query=result.per_query,
                stage=run_file_key(str(path)),
                judged=judged_share(top_documents(run), qrels),
            )
        )
    return entries


def link_builds_on(entries: list[Entry], specs: list[str]) -> None:
    """``--builds-on NAME=ENTRY``: the run file NAME reranks (or generates from) ENTRY's ranking.

    The run file's entry then builds on ENTRY's first stage instead of being a first stage itself, so
    the default baseline rule ("the first stage the others build on") counts it. ENTRY is any entry's
    exact name or the only name containing it, and must be a first stage (a retriever alone, a run file).
    """
    from harness.reports.leaderboard.baseline import named

    for spec in specs:
        name, sep, base = spec.partition("=")
        if not sep or not name or not base:
            raise ConfigError(f"leaderboard: --builds-on wants RUN_FILE_NAME=ENTRY, got {spec!r}")
        files = [e for e in entries if e.source.startswith("run file:") and e.name == name]
        if not files:
            given = ", ".join(e.name for e in entries if e.source.startswith("run file:")) or "none"
            raise ConfigError(f"leaderboard: --builds-on {spec!r}: no run file is named {name!r} (run files: {given})")
        target = next(e for e in entries if e.name == named([e for e in entries if e is not files[0]], base))
        if target.stage is None:
            raise ConfigError(
                f"leaderboard: --builds-on {spec!r}: '{target.name}' is not a first stage "
                "(it builds on another); name the first stage itself"
            )
        files[0].stage, files[0].upstream = None, target.stage
