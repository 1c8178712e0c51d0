"""Fixtures of the neural reranker tests: a tiny BERT built from a config, and a tiny corpus."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest

Doc = namedtuple("Doc", "doc_id text")
Doc.default_text = lambda self: self.text
Query = namedtuple("Query", "query_id text")

PASSAGES = {
    "d1": "The Eiffel tower is in Paris, the capital of France.",
    "d2": "Photosynthesis turns light, water and carbon dioxide into sugar.",
    "d3": "Paris",
    "d4": "A very long passage " + "about many unrelated things and more " * 12,
    "d5": "Mitochondria are the powerhouse of the cell.",
}
QUERIES = [Query("q1", "where is the eiffel tower"), Query("q2", "what does photosynthesis make")]
RUN = {"q1": {"d1": 3.0, "d3": 2.0, "d4": 1.0, "d5": 0.5}, "q2": {"d2": 2.5, "d4": 2.0, "d5": 1.0}}


class TinyStore:
    def get_many(self, ids):
        return {d: Doc(d, PASSAGES[d]) for d in ids if d in PASSAGES}


class TinyDataset:
    def docs_store(self):
        return TinyStore()

    def docs_iter(self):
        return iter(Doc(d, t) for d, t in PASSAGES.items())


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """A 2-layer BERT (hidden 32) with random weights and the packaged MiniLM tokenizer, saved to a folder."""
    import torch
    from transformers import BertConfig, BertModel

    from harness.models.loading import load_tokenizer

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = load_tokenizer(None)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture
def dataset() -> TinyDataset:
    return TinyDataset()


@pytest.fixture
def context(tmp_path: Path):
    from harness.cache import StageCache
    from harness.components import Context

    return Context(
        cache=StageCache(tmp_path / "cache"),
        dataset_id="tiny",
        data_root=str(tmp_path),
        device="cpu",
        seed=0,
        show_progress=False,
    )


@pytest.fixture
def tiny():
    """The tiny corpus's queries, first-stage run, passages and record type."""
    from types import SimpleNamespace

    return SimpleNamespace(queries=list(QUERIES), run={q: dict(d) for q, d in RUN.items()}, passages=dict(PASSAGES), Query=Query)
