"""``retriever=bm25``: BM25 through bm25s over any ir_datasets corpus.

bm25s (a well-kept, numpy/scipy BM25 with Lucene's scoring variant) rather
than our own: it precomputes scores at indexing time, so querying 31k
passages takes milliseconds. The index is cached per corpus and parameters.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from harness.cache import code_version
from harness.components import Retriever, Run, check_queries, option
from harness.hookspecs import hookimpl
from harness.stages import corpus_identity

logger = logging.getLogger(__name__)
# Passages whose texts are in memory at once while the index is built (the token ids of all are).
TOKENIZE_CHUNK = 10000


def _stemmers() -> tuple[str, ...]:
    import Stemmer  # a small C extension (1 ms to import): its languages are the stemmer's choices

    return tuple(Stemmer.algorithms())


@dataclass
class BM25Config:
    k1: float = option(0.9, "term-frequency saturation (Anserini's MS MARCO default 0.9)", ge=0)
    b: float = option(0.4, "length normalisation (Anserini's MS MARCO default 0.4)", ge=0, le=1)
    method: str = option("lucene", "bm25s scoring variant", choices=("lucene", "robertson", "atire", "bm25l", "bm25+"))
    top_k: int = option(1000, "documents returned per query", ge=1)
    stemmer: Optional[str] = option("english", "PyStemmer (Snowball) language, or null for none", choices=_stemmers())
    stopwords: Optional[str] = option("en", "bm25s stopword list, or null for none")
    threads: int = option(0, "bm25s query threads (0: one, -1: all cores)", ge=-1)


class BM25Retriever(Retriever):
    Config = BM25Config

    def _stemmer(self):
        if not self.config.stemmer:
            return None
        import Stemmer

        return Stemmer.Stemmer(self.config.stemmer)

    def _tokenize(self, texts: list[str], stemmer):
        bm25s = _bm25s()

        return bm25s.tokenize(
            texts, stopwords=self.config.stopwords or None, stemmer=stemmer, show_progress=self.context.show_progress
        )

    def tokenize_corpus(self, dataset: Any, chunk: int | None = None) -> tuple[list[str], Any]:
        """The corpus's doc ids and token ids, its texts streamed ``chunk`` (default ``TOKENIZE_CHUNK``) at a time.

        One bm25s ``Tokenizer`` keeps one vocabulary across the chunks and
        tokenizes as ``bm25s.tokenize`` does (lowercase, the same pattern,
        stopwords dropped before stemming, an empty document empty), so the
        index scores every document as the whole-corpus path did; only the
        numbering of the vocabulary differs (first occurrence here, set order
        there), which no score depends on.
        """
        from tqdm.auto import tqdm

        bm25s = _bm25s()
        chunk = chunk or TOKENIZE_CHUNK
        tokenizer = bm25s.tokenization.Tokenizer(stopwords=self.config.stopwords or None, stemmer=self._stemmer())
        doc_ids: list[str] = []
        ids: list[list[int]] = []
        texts: list[str] = []
        with tqdm(desc="BM25 tokenize", unit="doc", disable=not self.context.show_progress, leave=False) as bar:
            for doc in dataset.docs_iter():
                doc_ids.append(doc.doc_id)
                texts.append(doc.default_text())
                if len(texts) == chunk:
                    ids.extend(tokenizer.streaming_tokenize(texts, update_vocab=True, allow_empty=False))
                    bar.update(len(texts))
                    texts = []
            ids.extend(tokenizer.streaming_tokenize(texts, update_vocab=True, allow_empty=False))
            bar.update(len(texts))
        return doc_ids, bm25s.tokenization.Tokenized(ids=ids, vocab=tokenizer.get_vocab_dict())

    def index(self, dataset: Any) -> tuple[Any, list[str]]:
        """Build (or load from the cache) the BM25 index of the dataset's corpus."""
        bm25s = _bm25s()

        c = self.config
        # The corpus by content: an edited collection is indexed again, a moved one is not.
        payload = {
            "corpus": corpus_identity(dataset, self.context),
            "k1": c.k1,
            "b": c.b,
            "method": c.method,
            "stemmer": c.stemmer,
            "stopwords": c.stopwords,
            "code": code_version(type(self)),
        }

        def build(folder: Path) -> None:
            doc_ids, tokens = self.tokenize_corpus(dataset)
            logger.info("BM25: indexing %d documents of %s", len(doc_ids), self.context.dataset_id)
            model = bm25s.BM25(k1=c.k1, b=c.b, method=c.method)
            model.index(tokens, show_progress=self.context.show_progress)
            model.save(str(folder))
            (folder / "doc_ids.json").write_text(json.dumps(doc_ids))

        def read(folder: Path) -> tuple[Any, list[str]]:
            return bm25s.BM25.load(str(folder)), json.loads((folder / "doc_ids.json").read_text(encoding="utf-8"))

        return self.context.cache.entry("bm25-index", payload, build, read)

    def retrieve(self, dataset: Any, queries: Sequence[Any]) -> Run:
        check_queries(queries, "retriever=bm25")
        if not queries:
            return {}
        if getattr(self, "_loaded", None) is None:  # keep the index in memory across calls
            self._loaded = self.index(dataset)
        model, doc_ids = self._loaded
        tokens = self._tokenize([q.text for q in queries], self._stemmer())
        k = min(self.config.top_k, len(doc_ids))
        indices, scores = model.retrieve(tokens, k=k, n_threads=self.config.threads, show_progress=self.context.show_progress)
        run: Run = {}
        # tolist() first: Python ints and floats (the same values as float(np.float32)) are several
        # times faster to index with and compare than numpy scalars, which took ~40% of querying.
        for query, row, row_scores in zip(queries, indices.tolist(), scores.tolist()):
            # Lucene returns only matching documents; bm25s pads with score-0 ones.
            run[query.query_id] = {doc_ids[i]: s for i, s in zip(row, row_scores) if s > 0}
        return run


@hookimpl
def harness_add_retrievers():
    return {"bm25": BM25Retriever}


def _bm25s():
    import bm25s

    # bm25s sets its own logger to DEBUG when imported, over the run's logging config: one stray
    # "Building index from IDs objects" per index. Warnings and errors still come through.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s
