"""A third-party reranker plugin used by the sweep tests and benchmark.

Installed at test time as a real distribution (a ``.dist-info`` with a
``harness.plugins`` entry point, on PYTHONPATH), the way any user's plugin is
found. It rescores the top-k by query-term overlap plus ``weight`` times the
first-stage score; ``delay`` (seconds per query) simulates an expensive model
so a test can kill a job in the middle of its reranking.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from harness.components import Reranker, option
from harness.hookspecs import hookimpl


@dataclass
class OverlapConfig:
    weight: float = option(0.0, "weight of the first-stage score")
    top_k: int = option(100, "documents rescored per query")
    delay: float = option(0.0, "seconds slept per query (simulates an expensive model)")


class OverlapReranker(Reranker):
    Config = OverlapConfig

    def rerank(self, dataset, queries, run):
        store = dataset.docs_store()
        out = {}
        for query in queries:
            time.sleep(self.config.delay)
            terms = set(query.text.lower().split())
            top = sorted(run.get(query.query_id, {}).items(), key=lambda kv: (-kv[1], kv[0]))[: self.config.top_k]
            docs = store.get_many([doc_id for doc_id, _ in top])
            out[query.query_id] = {
                doc_id: len(terms & set(docs[doc_id].default_text().lower().split())) + self.config.weight * score
                for doc_id, score in top
            }
        return out


@hookimpl
def harness_add_rerankers():
    return {"overlap": OverlapReranker}


@hookimpl
def harness_config_dirs():
    return [(Path(__file__).parent / "overlap_conf").as_uri()]
