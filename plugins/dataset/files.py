"""``dataset=files``: any collection given as three files, registered with ir_datasets by config alone.

``harness run dataset=files dataset.docs=docs.trec dataset.queries=topics.txt
dataset.qrels=qrels.txt`` reads documents (TSV, JSONL or TREC SGML), queries
(TSV, JSONL or TREC topics) and TREC qrels (see docs/datasets.md and
:mod:`harness.data.file_formats`). conf/dataset/files.yaml builds the dataset id
from those keys, ``files:docs=<path>;queries=<path>;qrels=<path>;...``, with
absolute paths; this plugin registers that id pattern. The dataset has a
docstore (a verified cache entry keyed by the documents' content digest),
its handlers hold the files, so every stage-cache key holds their digests,
and it is validated (:func:`harness.data.dataset_check.cross_check`) when its
qrels are first read after a change to any of the files.
"""

from __future__ import annotations

import logging
from pathlib import Path

from harness.errors import DataError
from harness.hookspecs import hookimpl

logger = logging.getLogger(__name__)

PREFIX = "files:"
PATTERN = r"^files:(.*)$"
FILE_KEYS = {
    "docs": "documents (TSV, JSONL or TREC SGML)",
    "queries": "queries (TSV, JSONL or TREC topics)",
    "qrels": "relevance judgments (TREC qrels)",
}
OPTIONS = {"docs_format": "auto", "queries_format": "auto", "query_field": "title"}
CHOICES = {
    "docs_format": ("auto", "tsv", "jsonl", "trec"),
    "queries_format": ("auto", "tsv", "jsonl", "trec"),
    "query_field": ("title", "desc", "narr", "title+desc"),
}
EXAMPLE = "dataset=files dataset.docs=docs.trec dataset.queries=topics.txt dataset.qrels=qrels.txt"
_validated: dict[str, tuple] = {}  # dataset id -> digests of the files it was last validated with


def parse_id(dataset_id: str) -> dict[str, str]:
    """The keys of a ``files:`` id; a missing file key or an unknown one is an error naming it."""
    values = dict(OPTIONS)
    for part in filter(None, dataset_id[len(PREFIX) :].split(";")):
        key, equals, value = part.partition("=")
        if not equals or key not in {*FILE_KEYS, *OPTIONS}:
            raise DataError(
                f"dataset id {dataset_id!r}: {part!r} is not key=value with a key of "
                f"{', '.join([*FILE_KEYS, *OPTIONS])} (a path may not hold ';')"
            )
        values[key] = value
    for key, allowed in CHOICES.items():
        if values[key] not in allowed:
            raise DataError(f"dataset.{key}={values[key]!r}: expected one of {', '.join(allowed)}")
    for key, what in FILE_KEYS.items():
        if values.get(key, "") in ("", "None"):
            raise DataError(f"dataset.{key} is not set: give the file of {what}, e.g. harness run {EXAMPLE}")
    return values


def files_id(docs: str, queries: str, qrels: str, **options: str) -> str:
    """The id conf/dataset/files.yaml builds (for code and tests that load such a dataset directly)."""
    parts = {"docs": docs, "queries": queries, "qrels": qrels, **OPTIONS, **options}
    return PREFIX + ";".join(f"{k}={Path(v).resolve() if k in FILE_KEYS else v}" for k, v in parts.items())


def _given(value: str, key: str):
    from harness.data.file_source import GivenFile

    return GivenFile(Path(value).expanduser().resolve(), key)


def files_dataset(dataset_id: str):
    from ir_datasets.datasets.base import Dataset

    from harness.data.file_formats import resolve_format
    from harness.data.file_source import FileDocs, FileQrels, FileQueries

    values = parse_id(dataset_id)
    docs_file, queries_file, qrels_file = (_given(values[key], f"dataset.{key}") for key in FILE_KEYS)
    docs_format = resolve_format(docs_file.path(), values["docs_format"], "docs", "dataset.docs")
    queries_format = resolve_format(queries_file.path(), values["queries_format"], "queries", "dataset.queries")
    qrels_file.path()
    docs = FileDocs(docs_file, docs_format)
    queries = FileQueries(queries_file, queries_format, values["query_field"])
    qrels = FileQrels(qrels_file, lambda: validate(dataset_id, docs, queries, qrels))
    return Dataset(docs, queries, qrels)


def validate(dataset_id: str, docs, queries, qrels) -> None:
    """Cross-check the three files once per content: errors raise, warnings are logged."""
    from harness.data.dataset_check import Names, cross_check
    from harness.cache.digests import file_digest

    paths = (docs.docs_path(), queries.path(), qrels.path())
    digests = tuple(file_digest(p) for p in paths)
    if _validated.get(dataset_id) == digests:
        return
    names = Names(*(f"dataset.{key} {path}" for key, path in zip(FILE_KEYS, paths)))
    report = cross_check(
        {d.doc_id for d in docs.docs_iter()}, [q.query_id for q in queries.queries_iter()], qrels.unchecked_table(), names
    )
    if report.errors:
        raise DataError("\n".join(report.errors))
    for message in report.warnings:
        logger.warning("%s", message)
    _validated[dataset_id] = digests


@hookimpl
def harness_register_datasets(data_root: Path) -> list[str]:
    import ir_datasets

    registry = ir_datasets.registry
    # Built afresh on each load: the formats are detected and the files' presence checked again.
    for name in [n for n in registry._registered if n.startswith(PREFIX)]:
        registry._registered.pop(name)
    if not any(pattern.pattern == PATTERN for pattern, _ in registry._patterns):
        registry.register_pattern(PATTERN, lambda name, groups: files_dataset(name))
    return []
