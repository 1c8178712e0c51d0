"""pytest fixtures for plugin tests, loaded through the ``pytest11`` entry point of the harness.

Any test of an environment where the harness is installed can ask for them::

    def test_my_reranker_keeps_the_top_k(harness_toy_dataset, harness_build):
        reranker = harness_build(MyReranker, {"top_k": 2})
        ...
"""

from __future__ import annotations

import pytest

from harness.testing import toy
from harness.testing.checks import build


@pytest.fixture
def harness_toy_dataset() -> toy.ToyDataset:
    """Six passages, three queries, graded qrels and scored docs, with the ir_datasets interface."""
    return toy.ToyDataset()


@pytest.fixture
def harness_toy_run() -> dict:
    """A first-stage run over the toy dataset: every passage for every query."""
    return toy.first_stage_run()


@pytest.fixture
def harness_build(tmp_path):
    """``harness_build(cls, config=None, seed=0)``: a component built as the registry would, caching under tmp_path."""

    def make(cls, config=None, seed: int = 0):
        return build(cls, config, seed=seed, cache_root=tmp_path)

    return make
