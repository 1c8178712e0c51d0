"""retriever=bm25 (bm25s) and retriever=run on the tiny dataset."""

import sys

import bm25s
import pytest
import Stemmer

from harness.data import datasets
from harness.cache import StageCache
from harness.components import Context
from harness.errors import DataError, FormatError
from harness.plugin_manager import get_plugin_manager
from harness.registry import ComponentRegistry

from tiny_data import PASSAGES, TOPICS


@pytest.fixture()
def setup(tiny_root, tmp_path):
    pm = get_plugin_manager(entry_point_plugins=False)
    dataset = datasets.load("msmarco-passage-mini/trec-dl-2019", pm, tiny_root)
    ctx = Context(
        cache=StageCache(tmp_path / "cache"),
        dataset_id="msmarco-passage-mini/trec-dl-2019",
        data_root=str(tiny_root),
        show_progress=False,
    )
    return ComponentRegistry(pm), dataset, ctx, list(dataset.queries_iter())


def test_bm25_ranks_the_obvious_passage_first(setup):
    registry, dataset, ctx, queries = setup
    run = registry.create("retriever", {"name": "bm25", "top_k": 3}, ctx).retrieve(dataset, queries)
    assert set(run) == set(TOPICS)
    assert max(run["101"], key=run["101"].get) == "4"  # "led by ... Oppenheimer"
    assert max(run["103"], key=run["103"].get) == "7"
    assert all(len(docs) <= 3 and all(s > 0 for s in docs.values()) for docs in run.values())


def test_bm25_scores_equal_bm25s_used_directly(setup):
    registry, dataset, ctx, queries = setup
    run = registry.create("retriever", {"name": "bm25", "k1": 1.2, "b": 0.75}, ctx).retrieve(dataset, queries)
    stemmer = Stemmer.Stemmer("english")
    ids = list(PASSAGES)
    model = bm25s.BM25(k1=1.2, b=0.75)
    model.index(
        bm25s.tokenize(list(PASSAGES.values()), stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False
    )
    docs, scores = model.retrieve(
        bm25s.tokenize(list(TOPICS.values()), stopwords="en", stemmer=stemmer, show_progress=False),
        k=len(ids),
        show_progress=False,
    )
    for qid, row, row_scores in zip(TOPICS, docs, scores):
        expected = {ids[i]: float(s) for i, s in zip(row, row_scores) if s > 0}
        assert run[qid] == pytest.approx(expected)


def test_bm25_index_is_cached_per_parameters(setup):
    registry, dataset, ctx, queries = setup
    registry.create("retriever", {"name": "bm25"}, ctx).retrieve(dataset, queries)
    registry.create("retriever", {"name": "bm25", "top_k": 5}, ctx).retrieve(dataset, queries)
    assert ctx.cache.stats["bm25-index.miss"] == 1 and ctx.cache.stats["bm25-index.hit"] == 1
    registry.create("retriever", {"name": "bm25", "k1": 1.5}, ctx).retrieve(dataset, queries)
    assert ctx.cache.stats["bm25-index.miss"] == 2


def test_run_retriever_reads_the_datasets_scored_docs(setup):
    registry, dataset, ctx, queries = setup
    run = registry.create("retriever", {"name": "run"}, ctx).retrieve(dataset, queries)
    assert run["101"] == {"1": 12.0, "4": 11.0, "2": 9.5} and run["104"] == {"9": 1.0}
    top1 = registry.create("retriever", {"name": "run", "top_k": 1}, ctx).retrieve(dataset, queries)
    assert top1["101"] == {"1": 12.0}


def test_run_retriever_reads_any_trec_file(setup, tmp_path):
    registry, dataset, ctx, queries = setup
    path = tmp_path / "mine.trec"
    path.write_text("101 Q0 8 1 3.5 mine\n102 Q0 5 1 2.0 mine\n999 Q0 1 1 1.0 mine\n")
    run = registry.create("retriever", {"name": "run", "path": str(path)}, ctx).retrieve(dataset, queries)
    assert run == {"101": {"8": 3.5}, "102": {"5": 2.0}}  # queries outside the dataset are dropped


def test_malformed_run_file_names_file_and_line(setup, tmp_path):
    registry, dataset, ctx, queries = setup
    path = tmp_path / "bad.trec"
    path.write_text("101 Q0 8 1 3.5 mine\n101 Q0 9 2 high mine\n")
    with pytest.raises(FormatError, match=rf"{path}:2: score 'high' is not a number"):
        registry.create("retriever", {"name": "run", "path": str(path)}, ctx).retrieve(dataset, queries)


def test_run_retriever_without_scored_docs_is_a_clear_error(setup):
    registry, _, ctx, queries = setup
    docs_only = datasets.load("msmarco-passage-mini", registry.pm, ctx.data_root)
    with pytest.raises(DataError, match="has no scored docs"):
        registry.create("retriever", {"name": "run"}, ctx).retrieve(docs_only, queries)


@pytest.mark.parametrize("name", ["bm25", "run"])
def test_builtin_retrievers_pass_the_contract_kit(name, tiny_root):
    from harness.testing import check_all

    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    check_all(registry.get("retriever", name).cls, {"top_k": 5})


def test_a_plain_string_query_is_a_clear_error(setup):
    registry, dataset, ctx, _ = setup
    with pytest.raises(DataError, match=r"retriever=bm25: query #0 is 'who', not a query record"):
        registry.create("retriever", {"name": "bm25"}, ctx).retrieve(dataset, ["who"])


class StreamedCorpus:
    """Passages streamed from docs_iter only (no docs_store), with an empty and an all-stopword one."""

    def __init__(self, passages):
        self.passages = passages

    def docs_iter(self):
        from collections import namedtuple

        Doc = namedtuple("Doc", "doc_id text")
        Doc.default_text = lambda self: self.text
        return iter(Doc(d, t) for d, t in self.passages.items())


def columns(model) -> dict[str, list[tuple[int, float]]]:
    """The index as ``{token: [(document, score), ...]}``: what scores depend on, whatever the token numbering."""
    data, indices, indptr = (model.scores[k].tolist() for k in ("data", "indices", "indptr"))
    cols = model.vocab_dict.items()  # "" (added after indexing, for empty queries) has no column
    return {
        t: list(zip(indices[indptr[j] : indptr[j + 1]], data[indptr[j] : indptr[j + 1]])) for t, j in cols if j + 1 < len(indptr)
    }


@pytest.mark.parametrize(
    "options", [{}, {"stemmer": None}, {"stopwords": None}, {"stemmer": None, "stopwords": None, "method": "bm25+"}]
)
def test_streamed_tokenizing_builds_the_index_of_the_whole_corpus_path(options, setup, monkeypatch):
    registry, _, ctx, _ = setup
    passages = {**PASSAGES, "empty": "", "stop": "the of and it is"}
    corpus = StreamedCorpus(passages)
    retriever = registry.create("retriever", {"name": "bm25", **options}, ctx)
    c = retriever.config
    # the path before streaming: every text in one list, bm25s.tokenize over all of them
    whole = bm25s.BM25(k1=c.k1, b=c.b, method=c.method)
    whole.index(retriever._tokenize(list(passages.values()), retriever._stemmer()), show_progress=False)

    monkeypatch.setattr(sys.modules[type(retriever).__module__], "TOKENIZE_CHUNK", 3)  # 5 chunks, one vocabulary
    streamed, doc_ids = retriever.index(corpus)
    assert doc_ids == list(passages)
    assert columns(streamed) == columns(whole)  # every token's documents and scores, exactly
    queries = retriever._tokenize([*TOPICS.values(), "the", "nothing matches zzz"], retriever._stemmer())
    got = streamed.retrieve(queries, k=len(passages), show_progress=False)
    expected = whole.retrieve(queries, k=len(passages), show_progress=False)
    assert got[1].tolist() == expected[1].tolist()
    assert [sorted(zip(r, s)) for r, s in zip(*(a.tolist() for a in got))] == [
        sorted(zip(r, s)) for r, s in zip(*(a.tolist() for a in expected))
    ]
