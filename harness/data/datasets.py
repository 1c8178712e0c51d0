"""Loading datasets through ir_datasets, after the plugins have registered theirs."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Sequence

import pluggy

from harness.errors import DataError

logger = logging.getLogger(__name__)


def default_data_root() -> Path:
    """``HARNESS_DATA_ROOT``, else ``../shared/data`` beside the checkout (or the working directory)."""
    if os.environ.get("HARNESS_DATA_ROOT"):
        return Path(os.environ["HARNESS_DATA_ROOT"]).expanduser()
    checkout = Path(__file__).resolve().parents[1]
    candidates = [checkout.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    return next((path for path in candidates if path.is_dir()), candidates[0])


def resolve_data_root(configured: str | None) -> Path:
    return Path(configured).expanduser().resolve() if configured else default_data_root().resolve()


def register_all(pm: pluggy.PluginManager, data_root: Path) -> list[str]:
    """Every plugin's dataset ids; a plugin whose hook raises or returns no list of ids is a PluginError."""
    from harness.plugin_manager import call_each

    ids: list[str] = []
    for _plugin, registered in call_each(pm, "harness_register_datasets", data_root=data_root):
        ids.extend(registered or [])
    return ids


def load(dataset_id: str, pm: pluggy.PluginManager, data_root: Path) -> Any:
    """Register the plugins' datasets, then load ``dataset_id`` through ir_datasets."""
    import ir_datasets

    local_ids = register_all(pm, data_root)
    try:
        return ir_datasets.load(dataset_id)
    except KeyError:
        raise DataError(
            f"unknown dataset id '{dataset_id}': neither registered by a plugin "
            f"({', '.join(sorted(local_ids)) or 'none'}) nor an ir_datasets id"
        ) from None


def _read(dataset: Any, dataset_id: str, what: str, read):
    """Read one part of a dataset, turning a failed download into an error that says what to do."""
    from ir_datasets.util import home_path

    try:
        return read()
    except DataError:
        raise
    except Exception as exc:  # ir_datasets raises many kinds on a failed (offline) download
        raise DataError(
            f"could not read the {what} of dataset '{dataset_id}': {type(exc).__name__}: {exc}\n"
            f"  ir_datasets looked under IR_DATASETS_HOME={home_path()}; on an offline machine put the "
            f"dataset's files there first (same paths as ir_datasets' cache), or use a local dataset "
            f"under the data root"
        ) from exc


def queries(dataset: Any, dataset_id: str, limit: int | None = None, only: set[str] | None = None) -> list:
    if not dataset.has_queries():
        raise DataError(f"dataset '{dataset_id}' has no queries")
    records = _read(dataset, dataset_id, "queries", lambda: list(dataset.queries_iter()))
    if only is not None:
        records = [q for q in records if q.query_id in only]
    return records[:limit] if limit else records


def qrels(dataset: Any, dataset_id: str) -> dict[str, dict[str, int]]:
    if not dataset.has_qrels():
        raise DataError(f"dataset '{dataset_id}' has no relevance judgments (qrels) to evaluate against")

    def read():
        table: dict[str, dict[str, int]] = {}
        for q in dataset.qrels_iter():
            table.setdefault(q.query_id, {})[q.doc_id] = int(q.relevance)
        return table

    return _read(dataset, dataset_id, "qrels", read)


def query_texts(records: Sequence[Any]) -> dict[str, str]:
    return {q.query_id: q.text for q in records}
