"""Registers ``msmarco-passage-mini`` (and its TREC DL 2019/2020 subsets) with ir_datasets.

The files are the real MS MARCO subset in ``<data root>/msmarco-passage-mini``
(see ``../shared/data/README.md``): 31,362 passages holding every passage of the
official BM25 top-100 runs and all DL19 judged-relevant ones.
"""

from __future__ import annotations

from pathlib import Path

from harness.hookspecs import hookimpl

NAME = "msmarco-passage-mini"
HINT = (
    "Get it: copy the folder msmarco-passage-mini from the project's shared data "
    "(../shared/data, described in its README.md) into the data root."
)


def _datasets(folder: Path) -> dict:
    from ir_datasets.datasets.base import Dataset
    from ir_datasets.datasets.msmarco_passage import TREC_DL_QRELS_DEFS
    from ir_datasets.formats import TsvQueries
    from ir_datasets.util import Lazy

    from harness.data.irds import CachedTsvDocs, CheckedTrecQrels, CheckedTrecScoredDocs, LocalFile

    def local(name: str) -> LocalFile:
        return LocalFile(folder / name, NAME, HINT)

    docs = CachedTsvDocs(local("collection.tsv"), store_name=NAME, namespace="msmarco", lang="en", count_hint=31362)
    found = {NAME: Dataset(docs)}
    for year, topics in (("2019", "topics.dl19-passage.txt"), ("2020", "topics.dl20.txt")):
        short = year[2:]
        qrels = CheckedTrecQrels(local(f"qrels.dl{short}-passage.txt"), TREC_DL_QRELS_DEFS)
        subset = Dataset(
            docs,
            TsvQueries(local(topics), namespace="msmarco", lang="en"),
            qrels,
            CheckedTrecScoredDocs(local(f"run.dl{short}.bm25-top100.trec")),
        )
        found[f"{NAME}/trec-dl-{year}"] = subset
        judged = Lazy(lambda subset=subset: {q.query_id for q in subset.qrels_iter()})
        found[f"{NAME}/trec-dl-{year}/judged"] = Dataset(_filtered(subset, judged), docs, qrels)
    return found


def _filtered(subset, judged):
    from ir_datasets.datasets.base import FilteredQueries

    return FilteredQueries(subset.queries_handler(), judged)


@hookimpl
def harness_register_datasets(data_root: Path) -> list[str]:
    import ir_datasets

    registry = ir_datasets.registry
    folder = Path(data_root) / NAME
    # Re-registering with another data root replaces the entries; ir_datasets
    # has no public unregister, so the private table is edited here.
    found = _datasets(folder)
    for name, dataset in found.items():
        if getattr(registry._registered.get(name), "_harness_folder", None) == folder:
            continue
        registry._registered.pop(name, None)
        registry.register(name, dataset)
        registry._registered[name]._harness_folder = folder
    return sorted(found)
