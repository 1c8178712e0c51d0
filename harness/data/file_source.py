"""ir_datasets handlers over files a user names in the config (``dataset=files``).

They hold the files as download objects (:class:`GivenFile`), so the
dataset's content digest (:mod:`harness.cache.digests`) covers all three files and
an edited file never gives a stale cache hit. The documents get the verified
docstore of :class:`harness.data.irds.CachedTsvDocs`, keyed by their digest and
format.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ir_datasets.formats import BaseQueries

from harness.errors import DataError
from harness.data.file_formats import FileDoc, FileQuery, read_docs, read_queries
from harness.data.irds import CachedTsvDocs, CheckedTrecQrels, LocalFile
from harness.data.trec_io import parse_qrels


class GivenFile(LocalFile):
    """A file named by a config key; missing, it is an error naming the key (the checked stream is LocalFile's)."""

    def __init__(self, path: Path, key: str):
        self._path, self._key = Path(path), key

    def path(self, force: bool = True) -> Path:
        if force and not self._path.is_file():
            what = "is a folder, not a file" if self._path.is_dir() else "not found"
            raise DataError(
                f"{self._key}: {self._path} {what} (a relative path is read from the current directory, {os.getcwd()})"
            )
        return self._path

    def __repr__(self) -> str:
        return f"GivenFile({self._key}={str(self._path)!r})"


class FileDocs(CachedTsvDocs):
    """Documents read by :func:`harness.data.file_formats.read_docs`, with a docstore under IR_DATASETS_HOME."""

    def __init__(self, given: GivenFile, fmt: str):
        super().__init__(given, store_name=f"files-{fmt}", doc_cls=FileDoc)
        self._format = fmt

    def docs_iter(self):
        return (doc for _line, doc in read_docs(self.docs_path(), self._format))

    def docs_cls(self):
        return FileDoc


class FileQueries(BaseQueries):
    def __init__(self, given: GivenFile, fmt: str, field: str):
        self._file, self._format, self._field = given, fmt, field

    def path(self) -> Path:
        return self._file.path()

    def queries_iter(self):
        return (query for _line, query in read_queries(self.path(), self._format, self._field))

    def queries_cls(self):
        return FileQuery

    def queries_namespace(self):
        return None

    def queries_lang(self):
        return None


class FileQrels(CheckedTrecQrels):
    """TREC qrels read strictly; ``validate`` (the cross-check of all three files) runs before they are."""

    def __init__(self, given: GivenFile, validate: Callable[[], None]):
        super().__init__(given, {})
        self._validate = validate

    def path(self) -> Path:
        return self._qrels_dlc.path()

    def qrels_iter(self):
        self._validate()
        yield from super().qrels_iter()

    def unchecked_table(self) -> dict[str, dict[str, int]]:
        """The judgments without the cross-check (``harness datasets check`` reports it itself)."""
        table: dict[str, dict[str, int]] = {}
        for q in parse_qrels(self.path()):
            table.setdefault(q.query_id, {})[q.doc_id] = q.relevance
        return table
