"""The contract kit passes a sound component and catches each deliberately broken one."""

import random
from dataclasses import dataclass

import pytest

from harness.components import Reranker, option
from harness.errors import DataError
from harness.testing import (
    ComponentContract,
    ContractError,
    check_batching_invariance,
    check_cache_key_stability,
    check_determinism,
    check_errors,
    check_interface,
)


@dataclass
class OverlapConfig:
    weight: float = option(1.0, "weight of the word overlap")
    top_k: int = option(100, "documents reranked per query")


class Overlap(Reranker):
    """A sound reranker: word overlap between query and passage, plus the first-stage score."""

    Config = OverlapConfig

    def rerank(self, dataset, queries, run):
        store = dataset.docs_store()
        out = {}
        for query in queries:
            if not hasattr(query, "query_id"):
                raise DataError(f"expected query records, got {query!r}")
            words = set(query.text.lower().split())
            docs = run.get(query.query_id, {})
            for doc_id, score in docs.items():
                if not isinstance(score, (int, float)):
                    raise DataError(f"run score of ({query.query_id}, {doc_id}) is not a number: {score!r}")
            top = sorted(docs, key=docs.get, reverse=True)[: self.config.top_k]
            out[query.query_id] = {
                d: self.config.weight * len(words & set(store.get(d).text.lower().split())) + docs[d] for d in top
            }
        return out


class TestOverlapPassesEveryCheck(ComponentContract):
    component = Overlap


PLUGIN = """
from harness.hookspecs import hookimpl
from tests_kit_overlap_base import Base

class Registered(Base):
    pass

@hookimpl
def harness_add_rerankers():
    return {"kit_overlap": Registered}
"""


def test_registered_as_checks_the_installed_entry_point(tmp_path, monkeypatch):
    import importlib
    import sys

    info = tmp_path / "kit_overlap-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kit-overlap\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[harness.plugins]\nkit_overlap = kit_overlap_plugin\n")
    (tmp_path / "kit_overlap_plugin.py").write_text(PLUGIN)
    monkeypatch.setitem(sys.modules, "tests_kit_overlap_base", type(sys)("tests_kit_overlap_base"))
    sys.modules["tests_kit_overlap_base"].Base = Overlap
    monkeypatch.syspath_prepend(str(tmp_path))
    registered = importlib.import_module("kit_overlap_plugin").Registered
    check_interface(registered, registered_as="kit_overlap")
    with pytest.raises(ContractError) as err:
        check_interface(Overlap, registered_as="kit_overlap")
    assert str(err.value) == (
        f"reranker 'kit_overlap' is registered as kit_overlap_plugin.Registered, not {Overlap.__module__}.Overlap"
    )
    with pytest.raises(ContractError) as err:
        check_interface(Overlap, registered_as="nowhere")
    assert str(err.value).startswith("no installed plugin registers reranker 'nowhere' (registered: ")
    assert str(err.value).endswith("); is the package installed with its harness.plugins entry point?")


class WrongParameters(Overlap):
    def rerank(self, dataset, run):  # the broken signature is the point
        return run


class NoHelp(Overlap):
    @dataclass
    class Config:
        weight: float = 1.0


class Unseeded(Overlap):
    def rerank(self, dataset, queries, run):
        return {q: {d: s + random.random() for d, s in docs.items()} for q, docs in super().rerank(dataset, queries, run).items()}


class BatchNormalised(Overlap):
    def rerank(self, dataset, queries, run):
        out = super().rerank(dataset, queries, run)
        top = max(s for docs in out.values() for s in docs.values())
        return {q: {d: s / top for d, s in docs.items()} for q, docs in out.items()}


class IgnoresOption(Overlap):
    def cache_payload(self):
        return {"top_k": self.config.top_k}


class ObjectInPayload(Overlap):
    def cache_payload(self):
        return {"weight": self.config.weight, "model": object()}


class MutatesPayload(Overlap):
    def rerank(self, dataset, queries, run):
        self.config.top_k += 1
        return super().rerank(dataset, queries, run)


class CrashesOnMalformed(Overlap):
    def rerank(self, dataset, queries, run):
        return {q.query_id: {d: s.real * 2 for d, s in run[q.query_id].items()} for q in queries}


class AcceptsMalformed(Overlap):
    def rerank(self, dataset, queries, run):
        return {q.query_id: dict(run[q.query_id]) for q in queries}


class InventsOnEmpty(Overlap):
    def rerank(self, dataset, queries, run):
        return super().rerank(dataset, queries, run) or {"q0": {"d0": 1.0}}


def label(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


@pytest.mark.parametrize(
    "check, broken, message",
    [
        (
            check_interface,
            WrongParameters,
            "{}.rerank(dataset, run) must take the parameters of Reranker.rerank(dataset, queries, run)",
        ),
        (
            check_interface,
            NoHelp,
            "{}.Config field 'weight' has no help text: declare it with harness.components.option(default, help=...)",
        ),
        (check_determinism, Unseeded, "{} is not deterministic under seed 13: two runs differ at the output['q1']['d1']"),
        (
            check_batching_invariance,
            BatchNormalised,
            "{} is not batching-invariant: the batch and its items one at a "
            "time differ at the output['q1']['d2']: 0.7956349206349206 "
            "and 1.0; an item's output must not depend on the others in its batch",
        ),
        (
            check_cache_key_stability,
            IgnoresOption,
            "{}.cache_payload() ignores option 'weight': changing it would "
            "serve stale cached results; include it, or list it in cache_ignores",
        ),
        (
            check_cache_key_stability,
            ObjectInPayload,
            "{}.cache_payload() holds object at cache_payload()['model'], whose text differs between processes",
        ),
        (
            check_cache_key_stability,
            MutatesPayload,
            "{}.cache_payload() changed after running; the cache key must depend on the config only",
        ),
        (
            check_errors,
            CrashesOnMalformed,
            "{} crashed on malformed input with AttributeError: 'str' object has no attribute 'real'",
        ),
        (
            check_errors,
            AcceptsMalformed,
            "{} accepted malformed input without an error; check it and raise a "
            "harness.errors.HarnessError that says what is wrong",
        ),
        (check_errors, InventsOnEmpty, "{} returned {{'q0': {{'d0': 1.0}}}} for empty input; expected an empty result"),
    ],
)
def test_each_check_catches_its_broken_component(check, broken, message):
    with pytest.raises(ContractError) as err:
        check(broken)
    assert str(err.value).startswith(message.format(label(broken))), str(err.value)


def test_kit_on_a_builtin_retriever():
    # bm25 validates no input (a str query crashes with AttributeError), so only these three checks apply.
    from harness_plugins.retriever.bm25 import BM25Retriever

    config = {"stemmer": None, "stopwords": None}
    check_determinism(BM25Retriever, config)
    check_batching_invariance(BM25Retriever, config)
    check_cache_key_stability(BM25Retriever, config, ignores=["stemmer", "stopwords"])


def test_fixtures_reach_plugin_tests_through_the_pytest11_entry_point(
    harness_toy_dataset, harness_toy_run, harness_build, tmp_path
):
    reranker = harness_build(Overlap, {"top_k": 2})
    queries = list(harness_toy_dataset.queries_iter())
    reranked = reranker.rerank(harness_toy_dataset, queries, harness_toy_run)
    assert [len(docs) for docs in reranked.values()] == [2, 2, 2]
    assert reranker.context.cache.root == tmp_path / "cache"
