"""``harness datasets check [dataset overrides...]``: what a dataset holds and what is wrong with it.

The overrides are those of ``harness run`` (``dataset=files dataset.docs=...``,
``dataset=msmarco-passage-mini/trec-dl-2019``); the dataset is composed and
loaded as a run would load it, then every document, query and judgment is
read once. Exit status: 0 when there is no error (warnings allowed), 1 when
the dataset has errors, 2 when the overrides or a file cannot be read at all.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable, TypeVar, cast

from harness.data import datasets
from harness.data.dataset_check import Names, Report, cross_check, format_report
from harness.errors import ConfigError, HarnessError
from harness.data.relevance import convention

_T = TypeVar("_T")


def check(overrides: list[str]) -> int:
    config, data_root = compose_dataset(overrides)
    from harness.plugin_manager import get_plugin_manager

    dataset_id = config["id"]
    dataset = datasets.load(dataset_id, get_plugin_manager(), datasets.resolve_data_root(data_root))
    report = inspect(dataset, dataset_id)
    print(format_report(dataset_id, report, convention(config["binary_relevance_level"], dataset_id)))
    return 1 if report.errors else 0


def compose_dataset(overrides: list[str]) -> tuple[dict[str, Any], str | None]:
    """The resolved ``dataset`` group and ``data_root`` of the run config with these overrides."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from harness.cli.commands import extra_search_path
    from harness.config import conf_dir, register_schema

    register_schema()
    search_path = extra_search_path(overrides)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            cfg = compose(config_name="config", overrides=[*overrides, *search_path])
        return cast("dict[str, Any]", OmegaConf.to_container(cfg.dataset, resolve=True)), cfg.data_root
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"datasets check {' '.join(overrides)}: {exc}") from None


def inspect(dataset: Any, dataset_id: str) -> Report:
    """Counts and problems of every part; a part that cannot be read is an error, and no cross-check is made."""
    failed: list[str] = []

    def read(reader: Callable[[Any, str], _T]) -> _T | None:
        try:
            return reader(dataset, dataset_id)
        except HarnessError as exc:
            failed.append(str(exc))
            return None

    docs, query_ids, qrels = read(_doc_ids), read(_query_ids), read(_qrels)
    if docs is None or query_ids is None or qrels is None:
        counts = {
            f"{part} read": len(value)
            for part, value in (("docs", docs[0] if docs else None), ("queries", query_ids), ("qrels", qrels))
            if value is not None
        }
        return Report(counts=counts, errors=failed)
    doc_ids, duplicates = docs
    return cross_check(doc_ids, query_ids, qrels, _names(dataset, dataset_id), duplicate_docs=duplicates)


def _doc_ids(dataset: Any, dataset_id: str) -> tuple[set[str], int]:
    if not dataset.has_docs():
        raise ConfigError(f"dataset '{dataset_id}' has no documents")
    counts = datasets._read(dataset, dataset_id, "documents", lambda: Counter(d.doc_id for d in dataset.docs_iter()))
    return set(counts), sum(n - 1 for n in counts.values())


def _query_ids(dataset: Any, dataset_id: str) -> list[str]:
    return [q.query_id for q in datasets.queries(dataset, dataset_id)]


def _qrels(dataset: Any, dataset_id: str) -> dict[str, dict[str, int]]:
    handler = dataset.qrels_handler() if dataset.has_qrels() else None
    if handler is not None and hasattr(handler, "unchecked_table"):  # dataset=files: its own load-time check
        return handler.unchecked_table()
    return datasets.qrels(dataset, dataset_id)


def _names(dataset: Any, dataset_id: str) -> Names:
    if dataset_id.startswith("files:"):  # harness.data.file_source handlers: messages name the config keys
        paths = (dataset.docs_handler().docs_path(), dataset.queries_handler().path(), dataset.qrels_handler().path())
        return Names(*(f"dataset.{key} {Path(p)}" for key, p in zip(("docs", "queries", "qrels"), paths)))
    return Names(f"the documents of '{dataset_id}'", f"the queries of '{dataset_id}'", f"the qrels of '{dataset_id}'")
