"""Building blocks for registering local files as ir_datasets datasets.

Used by dataset plugins (the built-in msmarco-passage-mini one, and yours):
files are resolved lazily, a missing file says where it was looked for and how
to get it, malformed lines name file and line, and the document store is
written under ``IR_DATASETS_HOME`` rather than beside read-only source data.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from ir_datasets.formats import GenericScoredDoc, TrecQrel, TrecQrels, TrecScoredDocs, TsvDocs
from ir_datasets.util import BaseDownload, home_path

from harness.cache.digests import file_digest
from harness.errors import DataError
from harness.data.text_lines import checked_stream
from harness.data.trec_io import parse_qrels, parse_run


class LocalFile(BaseDownload):
    """A file in the data root; a clear error when it is missing."""

    def __init__(self, path: Path, dataset: str, hint: str):
        self._path, self._dataset, self._hint = Path(path), dataset, hint

    def path(self, force: bool = True) -> Path:
        if force and not self._path.exists():
            raise DataError(
                f"dataset '{self._dataset}': missing file {self._path}\n"
                f"  looked in data root {self._path.parent.parent} "
                f"(set HARNESS_DATA_ROOT or data_root=... to change it)\n  {self._hint}"
            )
        return self._path

    @contextlib.contextmanager
    def stream(self):
        # Checked line by line: ir_datasets' own readers would report bad UTF-8 without file or line.
        with checked_stream(self.path()) as handle:
            yield handle

    def __repr__(self) -> str:
        return f"LocalFile({str(self._path)!r})"


class CheckedTrecQrels(TrecQrels):
    """TREC qrels whose malformed lines raise an error naming file and line."""

    def qrels_iter(self):
        path = self._qrels_dlc.path()
        text = io.TextIOWrapper(path.open("rb"), encoding="utf-8")
        for q in parse_qrels(path, text):
            yield TrecQrel(q.query_id, q.doc_id, q.relevance, q.iteration)


class CheckedTrecScoredDocs(TrecScoredDocs):
    """TREC run as scored docs, with file:line errors."""

    def scoreddocs_iter(self):
        path = self._scoreddocs_dlc.path()
        text = io.TextIOWrapper(path.open("rb"), encoding="utf-8")
        for r in parse_run(path, text):
            yield GenericScoredDoc(r.query_id, r.doc_id, r.score)


class CachedTsvDocs(TsvDocs):
    """TSV docs whose lookup store lives under IR_DATASETS_HOME.

    ir_datasets writes the store beside the source file; shared data may be
    read-only and must stay clean. The store is a verified cache entry keyed
    by the content digest of the source, so an edited file never serves a
    stale store, a damaged one is rebuilt, and a moved data root reuses it.
    """

    def __init__(self, docs_dlc, store_name: str, **kwargs):
        super().__init__(docs_dlc, **kwargs)
        self._store_name = store_name

    def docs_iter(self):
        # Plain iteration reads the file: ir_datasets would build the lookup
        # store as a side effect, which slows a one-pass read (BM25 indexing)
        # by a third. The store is built on first lookup instead.
        return self._iter()

    def docs_store(self, field="doc_id", options=None):
        # Built and read through a stage cache of its own under IR_DATASETS_HOME: the store is
        # written atomically, checksummed, verified on first use in a process, and rebuilt
        # (never served) when a file of it is damaged or a build was killed half way.
        from harness.cache import StageCache

        def store(folder: Path):
            return self._store(folder / "store", field, options)

        self._opened = None  # a store opened before may have been quarantined since
        cache = StageCache(home_path() / "harness-docstores")
        payload = {"collection": file_digest(self.docs_path()), "field": field}
        self._opened = cache.entry(self._store_name, payload, lambda tmp: store(tmp).build(), store)
        return self._opened

    def docs_count(self):
        # ir_datasets asks for the count while iterating (to know where to stop), and its own
        # version would build the store for that: only a store already opened answers.
        opened = getattr(self, "_opened", None)
        return opened.count() if opened is not None and opened.built() else None

    def _store(self, path: Path, field: str, options):
        from ir_datasets.indices import PickleLz4FullStore
        from ir_datasets.indices.base import DEFAULT_DOCSTORE_OPTIONS

        return PickleLz4FullStore(
            path=str(path),
            init_iter_fn=self.docs_iter,
            data_cls=self.docs_cls(),
            lookup_field=field,
            index_fields=["doc_id"],
            size_hint=self._docstore_size_hint,
            count_hint=self._count_hint,
            options=options or DEFAULT_DOCSTORE_OPTIONS,
        )
