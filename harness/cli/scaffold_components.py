"""Component templates of ``harness plugins new``, one small working example per kind.

Each passes the contract kit as generated: replace its scoring with your own
and keep the input checks. str.format fields: name, cls.
"""

CHECKS = """

def _words(text: str) -> set[str]:
    return set(re.findall(r"\\w+", text.lower()))


def _check_query(query: Any) -> None:
    if not (hasattr(query, "query_id") and hasattr(query, "text")):
        raise DataError(f"{cls}: expected query records with query_id and text, got {{query!r}}")


def _check_scores(query_id: str, docs: Any) -> None:
    for doc_id, score in docs.items():
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise DataError(f"{cls}: score of ({{query_id}}, {{doc_id}}) is not a number: {{score!r}}")
"""

RERANKER = (
    '''"""{cls}: reranks the first stage's top-k by word overlap with the query.

Replace the scoring in ``rerank`` with your model; keep the input checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from harness.components import Reranker, Run, option
from harness.errors import DataError


@dataclass
class {cls}Config:
    top_k: int = option(100, "documents of the first-stage run reranked per query")
    weight: float = option(1.0, "weight of the query-passage word overlap added to the first-stage score")


class {cls}(Reranker):
    Config = {cls}Config

    def rerank(self, dataset: Any, queries: Sequence[Any], run: Run) -> Run:
        store = dataset.docs_store()
        reranked: Run = {{}}
        for query in queries:
            _check_query(query)
            docs = run.get(query.query_id, {{}})
            _check_scores(query.query_id, docs)
            top = sorted(docs, key=lambda d: (-docs[d], d))[: self.config.top_k]
            texts = store.get_many(top)
            words = _words(query.text)
            reranked[query.query_id] = {{
                d: float(docs[d]) + self.config.weight * len(words & _words(texts[d].default_text())) for d in top}}
        return reranked
'''
    + CHECKS
)

RETRIEVER = (
    '''"""{cls}: scores every passage of the corpus by word overlap with the query.

Replace the scoring in ``retrieve`` with your model; keep the input checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from harness.components import Retriever, Run, option
from harness.errors import DataError


@dataclass
class {cls}Config:
    top_k: int = option(1000, "documents returned per query")


class {cls}(Retriever):
    Config = {cls}Config

    def retrieve(self, dataset: Any, queries: Sequence[Any]) -> Run:
        for query in queries:
            _check_query(query)
        corpus = [(doc.doc_id, _words(doc.default_text())) for doc in dataset.docs_iter()] if queries else []
        run: Run = {{}}
        for query in queries:
            words = _words(query.text)
            scored = {{doc_id: float(len(words & terms)) for doc_id, terms in corpus if words & terms}}
            run[query.query_id] = dict(sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[: self.config.top_k])
        return run
'''
    + CHECKS
)

GENERATOR = '''"""{cls}: answers with the sentence of the context that shares most words with the question.

Replace ``generate`` with your language model; keep the input checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from harness.components import Generator, option
from harness.errors import DataError


@dataclass
class {cls}Config:
    max_words: int = option(50, "answers are cut to this many words")


class {cls}(Generator):
    Config = {cls}Config

    def generate(self, questions: Sequence[str], contexts: Sequence[Sequence[str]]) -> list[str]:
        if len(questions) != len(contexts):
            raise DataError(f"{cls}: {{len(questions)}} questions but {{len(contexts)}} contexts")
        return [self._answer(q, ctx) for q, ctx in zip(questions, contexts)]

    def _answer(self, question: str, passages: Sequence[str]) -> str:
        words = _words(question)
        sentences = [s for p in passages for s in re.split(r"(?<=[.!?])\\s+", str(p)) if s]
        if not sentences:
            return ""
        best = max(sentences, key=lambda s: (len(words & _words(s)), -sentences.index(s)))
        return " ".join(best.split()[: self.config.max_words])


def _words(text: str) -> set[str]:
    return set(re.findall(r"\\w+", text.lower()))
'''

NOISE = '''"""{cls}: replaces a share of the context passages with random other passages.

The random draw is seeded by the run's seed and the query id: the same run
gets the same noise, whatever else is in the batch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Sequence

from harness.components import NoiseInjector, option
from harness.errors import DataError


@dataclass
class {cls}Config:
    ratio: float = option(0.5, "share of the context passages replaced by random candidates")


class {cls}(NoiseInjector):
    Config = {cls}Config

    def inject(self, query: Any, passages: Sequence[Any], candidates: Sequence[Any]) -> list[Any]:
        if passages is None or isinstance(passages, (str, bytes)) or candidates is None:
            raise DataError(f"{cls}: passages and candidates must be sequences of passages, "
                            f"got {{type(passages).__name__}} and {{type(candidates).__name__}}")
        rng = random.Random(f"{{self.context.seed}}:{{getattr(query, 'query_id', query)}}")
        kept = list(passages)
        pool = [c for c in candidates if c not in kept]
        count = min(round(len(kept) * self.config.ratio), len(pool))
        for slot, noise in zip(rng.sample(range(len(kept)), count), rng.sample(pool, count)):
            kept[slot] = noise
        return kept
'''

METRIC = '''"""{cls}: reciprocal rank of the first relevant document within the cutoff."""

from __future__ import annotations

from dataclasses import dataclass

from harness.components import Metric, Qrels, Run, option
from harness.errors import DataError


@dataclass
class {cls}Config:
    cutoff: int = option(10, "only the first `cutoff` documents count")
    relevance_level: int = option(1, "documents judged at least this are relevant")


class {cls}(Metric):
    Config = {cls}Config

    def per_query(self, qrels: Qrels, run: Run) -> dict[str, float]:
        values = {{}}
        for query_id, judged in qrels.items():
            docs = run.get(query_id, {{}})
            for doc_id, score in docs.items():
                if isinstance(score, bool) or not isinstance(score, (int, float)):
                    raise DataError(f"{cls}: score of ({{query_id}}, {{doc_id}}) is not a number: {{score!r}}")
            ranking = sorted(docs, key=lambda d: (-docs[d], d))[: self.config.cutoff]
            hits = [rank for rank, d in enumerate(ranking, 1) if judged.get(d, 0) >= self.config.relevance_level]
            values[query_id] = 1.0 / hits[0] if hits else 0.0
        return values
'''

PEFT = '''"""{cls}: BitFit, trains only the bias terms (and optionally LayerNorm) of a frozen model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.components import PeftMethod, option
from harness.errors import DataError


@dataclass
class {cls}Config:
    train_layer_norm: bool = option(False, "also train LayerNorm weights")


class {cls}(PeftMethod):
    Config = {cls}Config

    def apply(self, model: Any) -> Any:
        import torch

        if not isinstance(model, torch.nn.Module):
            raise DataError(f"{cls}: expected a torch.nn.Module, got {{type(model).__name__}}")
        norms = {{id(p) for m in model.modules() if isinstance(m, torch.nn.LayerNorm) for p in m.parameters()}}
        for name, parameter in model.named_parameters():
            parameter.requires_grad = name.endswith("bias") or (self.config.train_layer_norm and id(parameter) in norms)
        return model
'''

DATASET = '''"""Registers the dataset ``{name}`` from files in ``<data root>/{name}/``.

The file layout and formats are described in the harness's docs/datasets.md
("A dataset plugin"); files are read lazily, with errors that name the missing
file or bad line.
"""

from __future__ import annotations

from pathlib import Path

NAME = "{name}"
HINT = "Put docs.tsv, queries.tsv and qrels.txt in that folder (docs/datasets.md of the harness)."
QRELS_DEFS = {{0: "not relevant", 1: "relevant", 2: "highly relevant"}}


def register(data_root) -> list[str]:
    import ir_datasets
    from ir_datasets.datasets.base import Dataset
    from ir_datasets.formats import TsvQueries

    from harness.data.irds import CachedTsvDocs, CheckedTrecQrels, LocalFile

    folder = Path(data_root) / NAME

    def local(file: str) -> LocalFile:
        return LocalFile(folder / file, NAME, HINT)

    docs = CachedTsvDocs(local("docs.tsv"), store_name=NAME, namespace=NAME, lang="en")
    dataset = Dataset(docs, TsvQueries(local("queries.tsv"), namespace=NAME, lang="en"),
                      CheckedTrecQrels(local("qrels.txt"), QRELS_DEFS))
    # ir_datasets has no public unregister: replace the entry when the data root changes.
    ir_datasets.registry._registered.pop(NAME, None)
    ir_datasets.registry.register(NAME, dataset)
    return [NAME]
'''

COMPONENTS = {
    "reranker": {"module": RERANKER, "yaml": "# reranker={name}\nname: {name}\ntop_k: 100\nweight: 1.0\n"},
    "retriever": {"module": RETRIEVER, "yaml": "# retriever={name}\nname: {name}\ntop_k: 1000\n"},
    "generator": {"module": GENERATOR, "yaml": "# generator={name}\nname: {name}\nmax_words: 50\n"},
    "noise": {"module": NOISE, "yaml": "# noise={name}\nname: {name}\nratio: 0.5\n"},
    "metric": {"module": METRIC, "yaml": ""},
    "peft": {"module": PEFT, "yaml": "# peft={name}\nname: {name}\ntrain_layer_norm: false\n"},
    "dataset": {"module": DATASET, "yaml": "# dataset={name}\nid: {name}\nbinary_relevance_level: 1\n"},
}
