"""ir_datasets handlers over a lazily parsed :class:`harness.data.qa_data.QACollection`.

The file is parsed on first use (registering stays cheap) and once per
dataset object; the corpus is small enough (QA benchmarks: thousands of
passages) to be held in memory, so the docstore is a dict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from ir_datasets.formats import BaseDocs, BaseQrels, BaseQueries, GenericDoc, TrecQrel
from ir_datasets.indices import Docstore

from harness.data.qa_data import QACollection, QAQuery

QRELS_DEFS = {1: "gold evidence passage", 0: "distractor or counterfactual passage"}


class _Loaded:
    """Parses on first access and remembers the result while its files are unchanged.

    ``harness_data_files`` names the files ``load`` reads, so that cache keys
    hold their content digest (``harness.cache.digests``); an edited file is parsed
    again, so what a stage reads always matches the digest in its key.
    """

    def __init__(self, load: Callable[[], QACollection], files: Iterable[Path] = ()):
        self._load = load
        self._value: QACollection | None = None
        self._parsed: tuple[Any, ...] | None = None
        self.harness_data_files = tuple(Path(f) for f in files)

    def __call__(self) -> QACollection:
        current = self._contents()
        if self._value is None or current != self._parsed:
            self._value, self._parsed = self._load(), current
        return self._value

    def _contents(self) -> tuple:
        from harness.cache.digests import path_digest

        return tuple(path_digest(f) for f in self.harness_data_files)


class DictDocstore(Docstore):
    def __init__(self, docs: dict[str, str]):
        super().__init__(GenericDoc)
        self._docs = docs

    def get_many_iter(self, doc_ids):
        for doc_id in doc_ids:
            if doc_id in self._docs:
                yield GenericDoc(doc_id, self._docs[doc_id])


class QADocs(BaseDocs):
    def __init__(self, loaded: _Loaded):
        self._loaded = loaded

    def docs_iter(self):
        return (GenericDoc(doc_id, text) for doc_id, text in self._loaded().docs.items())

    def docs_count(self):
        return len(self._loaded().docs)

    def docs_store(self, field="doc_id", options=None):
        return DictDocstore(self._loaded().docs)

    def docs_cls(self):
        return GenericDoc

    def docs_namespace(self):
        return None

    def docs_lang(self):
        return "en"


class QAQueries(BaseQueries):
    def __init__(self, loaded: _Loaded):
        self._loaded = loaded

    def queries_iter(self):
        return iter(self._loaded().queries)

    def queries_cls(self):
        return QAQuery

    def queries_namespace(self):
        return None

    def queries_lang(self):
        return "en"


class QAQrels(BaseQrels):
    def __init__(self, loaded: _Loaded):
        self._loaded = loaded

    def qrels_iter(self):
        for qid, docs in self._loaded().qrels.items():
            for doc_id, rel in docs.items():
                yield TrecQrel(qid, doc_id, rel, "0")

    def qrels_defs(self):
        return QRELS_DEFS

    def qrels_cls(self):
        return TrecQrel


def qa_dataset(load: Callable[[], QACollection], files: Iterable[Path] = ()):
    """An ir_datasets Dataset (docs, queries, qrels) over the collection ``load`` returns from ``files``."""
    from ir_datasets.datasets.base import Dataset

    loaded = _Loaded(load, files)
    return Dataset(QADocs(loaded), QAQueries(loaded), QAQrels(loaded))
