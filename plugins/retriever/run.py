"""``retriever=run``: a precomputed first stage.

Reads the dataset's scored docs (for msmarco-passage-mini, the official BM25
top-100 over the full collection) or any TREC run file given as ``path``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from harness.components import Retriever, Run, check_queries, option
from harness.cache.digests import file_digest
from harness.errors import DataError
from harness.evaluation import some_ids
from harness.hookspecs import hookimpl
from harness.data.trec_io import ranked, read_run


@dataclass
class RunFileConfig:
    path: Optional[str] = option(None, "a TREC run file; null = the dataset's own scored docs")
    top_k: Optional[int] = option(None, "keep the best k documents per query (null = all)", ge=1)


class RunFileRetriever(Retriever):
    Config = RunFileConfig
    searches_corpus = False

    def cache_payload(self):
        # The run file by content, not by path: an edited file is read again, a moved one is not.
        # (Without a path, the stage key holds the dataset's content, scored docs included.)
        if not self.config.path:
            return {"path": None, "top_k": self.config.top_k}
        path = Path(self.config.path).expanduser()
        if not path.is_file():
            raise DataError(f"retriever=run: path={self.config.path}: no such file")
        return {"file_sha256": file_digest(path), "top_k": self.config.top_k}

    def retrieve(self, dataset: Any, queries: Sequence[Any]) -> Run:
        check_queries(queries, "retriever=run")
        wanted = {q.query_id for q in queries}
        if self.config.path:
            full = read_run(Path(self.config.path).expanduser())
        elif dataset.has_scoreddocs():
            full = {}
            for sd in dataset.scoreddocs_iter():
                if sd.query_id in wanted:
                    full.setdefault(sd.query_id, {})[sd.doc_id] = float(sd.score)
        else:
            raise DataError(
                f"dataset '{self.context.dataset_id}' has no scored docs (no official run); "
                "give a TREC run file with retriever.path=..."
            )
        run = {qid: docs for qid, docs in full.items() if qid in wanted}
        if not run:  # a run file of another dataset would otherwise score 0 everywhere, without a word
            raise DataError(
                f"retriever=run: {self.config.path or 'the scored docs'} share no query with dataset "
                f"'{self.context.dataset_id}': run queries {some_ids(full)}; the dataset's queries "
                f"{some_ids(wanted)}. Is the run for this dataset?"
            )
        if self.config.top_k:
            run = {qid: dict(ranked(docs)[: self.config.top_k]) for qid, docs in run.items()}
        return run


@hookimpl
def harness_add_retrievers():
    return {"run": RunFileRetriever}
