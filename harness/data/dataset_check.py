"""What a dataset holds and what is wrong with it: counts, errors and warnings, for any dataset.

:func:`cross_check` compares documents, queries and qrels: it is what
``dataset=files`` validates at load and what ``harness datasets check``
prints. Errors make a dataset unusable (nothing to retrieve, no query
judged); warnings are figures a reader should know (judged documents that
are not in the collection can never be retrieved).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from harness.evaluation import some_ids

Qrels = Mapping[str, Mapping[str, int]]


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    levels: dict[int, int] = field(default_factory=dict)  # relevance label -> judgments
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Names:
    """How messages name the three parts (``dataset.docs /path/docs.trec``, or a dataset id)."""

    docs: str
    queries: str
    qrels: str


def cross_check(doc_ids: set[str], query_ids: Iterable[str], qrels: Qrels, names: Names, duplicate_docs: int = 0) -> Report:
    queries = set(query_ids)
    judged = queries & qrels.keys()
    pairs = [(qid, did) for qid, docs in qrels.items() for did in docs]
    missing_docs = {did for _qid, did in pairs if did not in doc_ids}
    report = Report(levels=dict(sorted(Counter(g for docs in qrels.values() for g in docs.values()).items())))
    report.counts = {
        "documents": len(doc_ids),
        "queries": len(queries),
        "judged queries": len(judged),
        "queries without judgments": len(queries - judged),
        "judgments": len(pairs),
        "judged queries not among the queries": len(qrels.keys() - queries),
        "judged documents not in the collection": len(missing_docs),
    }
    _errors(report, doc_ids, queries, qrels, judged, names, duplicate_docs)
    _warnings(report, qrels, queries, pairs, missing_docs, names)
    return report


def _errors(report: Report, doc_ids, queries, qrels: Qrels, judged, names: Names, duplicate_docs: int) -> None:
    if not doc_ids:
        report.errors.append(f"{names.docs}: no documents")
    if duplicate_docs:
        report.errors.append(f"{names.docs}: {duplicate_docs} duplicate document ids")
    if not queries:
        report.errors.append(f"{names.queries}: no queries")
    if not qrels:
        report.errors.append(f"{names.qrels}: no judgments")
    elif queries and not judged:
        report.errors.append(
            f"{names.qrels}: none of its {len(qrels)} judged queries ({some_ids(qrels)}) is a "
            f"query of {names.queries} ({some_ids(queries)}): expected the same query ids"
        )


def _warnings(report: Report, qrels: Qrels, queries, pairs, missing_docs, names: Names) -> None:
    unknown_queries = qrels.keys() - queries
    if queries and unknown_queries and len(unknown_queries) < len(qrels):
        report.warnings.append(
            f"{names.qrels}: {len(unknown_queries)} of its {len(qrels)} judged queries are not "
            f"in {names.queries} ({some_ids(unknown_queries)}); they are not evaluated"
        )
    if missing_docs and report.counts["documents"]:
        labels = Counter(qrels[qid][did] for qid, did in pairs if did in missing_docs)
        by_label = ", ".join(f"{label}: {n}" for label, n in sorted(labels.items()))
        report.warnings.append(
            f"{names.qrels}: {sum(labels.values())} of {len(pairs)} judgments (by label "
            f"{by_label}) name {len(missing_docs)} documents not in {names.docs} "
            f"({some_ids(missing_docs)}); a first stage over the collection cannot retrieve them"
        )


def format_report(dataset_id: str, report: Report, convention: str) -> str:
    width = max(len(name) for name in report.counts) + 2
    lines = [f"dataset {dataset_id}"]
    lines += [f"  {name:<{width}}{value}" for name, value in report.counts.items()]
    if report.levels:
        lines.append(
            f"  {'judgments by label':<{width}}" + ", ".join(f"{level}: {count}" for level, count in report.levels.items())
        )
    lines.append(f"  {convention}")
    lines += [f"error: {message}" for message in report.errors]
    lines += [f"warning: {message}" for message in report.warnings]
    if not report.errors and not report.warnings:
        lines.append("no problems found")
    return "\n".join(lines)
