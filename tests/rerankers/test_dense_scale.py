"""The dense retriever at scale: shards that resume, memory-mapped blocked search, FAISS, executors."""

from __future__ import annotations

import json
from collections import namedtuple

import numpy as np
import pytest

from harness.registry import ComponentRegistry

Doc = namedtuple("Doc", "doc_id text")
Doc.default_text = lambda self: self.text
Query = namedtuple("Query", "query_id text")
WORDS = "paris tower light water sugar cell energy river bank money music film law court seed tree".split()


class Corpus:
    """``size`` short synthetic passages (the same ones every time), streamed from ``docs_iter``."""

    def __init__(self, size: int = 8):
        rng = np.random.default_rng(7)
        self.passages = {f"d{i}": " ".join(rng.choice(WORDS, size=int(rng.integers(3, 12)))) for i in range(size)}

    def docs_iter(self):
        return iter(Doc(d, t) for d, t in self.passages.items())


QUERIES = [Query("q1", "paris tower"), Query("q2", "money in the bank"), Query("q3", "a tree seed")]


def build(context, **options):
    from harness.plugin_manager import get_plugin_manager

    return ComponentRegistry(get_plugin_manager()).create("retriever", {"name": "dense", **options}, context)


def fresh_context(tmp_path, name):
    from harness.cache import StageCache
    from harness.components import Context

    return Context(
        cache=StageCache(tmp_path / name),
        dataset_id="synthetic",
        data_root=str(tmp_path),
        device="cpu",
        seed=0,
        show_progress=False,
    )


def corpus_arrays(retriever, corpus):
    vectors = retriever.corpus_vectors(corpus)
    return vectors, [np.array(s) for s in vectors.shards]


def count_corpus_encodings(retriever, monkeypatch, fail_at=None):
    """Patch the retriever's scorer: count the corpus shards it encodes, raise at shard ``fail_at``."""
    scorer = retriever.scorer
    original = scorer.encode
    calls = []

    def encode(texts, query=False, desc=""):
        if not query:
            if fail_at is not None and len(calls) == fail_at:
                raise RuntimeError("killed mid-encoding")
            calls.append(desc)
        return original(texts, query=query, desc=desc)

    monkeypatch.setattr(scorer, "encode", encode)
    return calls


def test_a_killed_encoding_resumes_at_the_first_missing_shard(tiny_model, tmp_path, monkeypatch):
    corpus = Corpus(8)
    serial = build(fresh_context(tmp_path, "a"), model=tiny_model, shard_size=2, top_k=5)
    expected_run = serial.retrieve(corpus, QUERIES)
    expected_vectors, expected = corpus_arrays(serial, corpus)

    context = fresh_context(tmp_path, "b")
    killed = build(context, model=tiny_model, shard_size=2, top_k=5)
    calls = count_corpus_encodings(killed, monkeypatch, fail_at=2)
    with pytest.raises(RuntimeError, match="killed"):
        killed.retrieve(corpus, QUERIES)
    assert calls == ["corpus shard 1/4", "corpus shard 2/4"]

    rerun = build(context, model=tiny_model, shard_size=2, top_k=5)
    calls = count_corpus_encodings(rerun, monkeypatch)
    assert rerun.retrieve(corpus, QUERIES) == expected_run
    assert calls == ["corpus shard 3/4", "corpus shard 4/4"]  # only the missing shards
    vectors, arrays = corpus_arrays(rerun, corpus)
    assert len(arrays) == 4 and all(a.tobytes() == e.tobytes() for a, e in zip(arrays, expected))  # bitwise
    assert vectors.doc_ids() == expected_vectors.doc_ids() == list(corpus.passages)
    keys = [json.loads((f / "cache-key.json").read_text())["payload"]["shard"] for f in vectors.folders]
    assert keys == [[0, 4], [1, 4], [2, 4], [3, 4]]
    assert [f.name for f in vectors.folders] == [f.name for f in expected_vectors.folders]


def test_a_corpus_never_lies_in_memory_whole(tiny_model, tmp_path, monkeypatch):
    from harness.scale import shards

    sizes = []
    original = shards.encode_shard
    monkeypatch.setattr(
        shards, "encode_shard", lambda cache, shard, encode: sizes.append(len(shard.texts)) or original(cache, shard, encode)
    )
    build(fresh_context(tmp_path, "c"), model=tiny_model, shard_size=3).corpus_vectors(Corpus(8))
    assert sizes == [3, 3, 2]


def write_shards(folder, arrays):
    """Shard folders as the encoder writes them (vectors.npy, ids.json), without a model."""
    from harness.scale.shards import IDS, VECTORS

    folders, start = [], 0
    for i, array in enumerate(arrays):
        f = folder / f"shard{i}"
        f.mkdir(parents=True)
        np.save(f / VECTORS, array.astype(np.float32))
        (f / IDS).write_text(json.dumps([f"d{start + j}" for j in range(len(array))]))
        folders.append(str(f))
        start += len(array)
    return folders


def test_memory_mapped_blocked_search_equals_the_in_memory_search(tmp_path):
    import torch

    from harness.models.functional import similarity_matrix
    from harness.scale.vectors import ShardedVectors, exact_search

    vectors = np.random.default_rng(0).standard_normal((301, 32)).astype(np.float32)
    queries = torch.from_numpy(np.random.default_rng(1).standard_normal((7, 32)).astype(np.float32))
    folders = write_shards(tmp_path, [vectors[:97], vectors[97:200], vectors[200:]])
    mapped = ShardedVectors(folders)
    assert all(isinstance(s, np.memmap) for s in mapped.shards)
    score = lambda q, d: similarity_matrix(q, d, "cosine")
    blocked = exact_search(queries, mapped, 20, score, block_rows=16)
    in_memory = exact_search(queries, ShardedVectors(folders, in_memory=True), 20, score, block_rows=16)
    assert np.array_equal(in_memory[0], blocked[0]) and np.array_equal(in_memory[1], blocked[1])  # bit for bit
    top = torch.topk(score(queries, torch.from_numpy(vectors)), 20, dim=1)  # one matrix product, no blocks
    assert np.array_equal(blocked[1], top.indices.numpy())
    assert np.allclose(blocked[0], top.values.numpy(), rtol=0, atol=1e-6)


def test_tied_scores_rank_the_earlier_passage_first_whatever_the_blocks(tmp_path):
    import torch

    from harness.models.functional import similarity_matrix
    from harness.scale.vectors import ShardedVectors, exact_search

    # Small integers: every score is exact in float32, so ties are real ties in any kernel.
    vectors = np.random.default_rng(2).integers(-3, 4, (400, 8)).astype(np.float32)
    vectors[[50, 120, 260, 399]] = vectors[10]
    queries = torch.from_numpy(np.concatenate([vectors[[10]], np.ones((1, 8), np.float32)]))
    sharded = ShardedVectors(write_shards(tmp_path, [vectors[:150], vectors[150:]]))
    dot = lambda q, d: similarity_matrix(q, d, "dot")
    results = [exact_search(queries, sharded, 30, dot, block_rows=b, query_chunk=c) for b, c in [(7, 1), (64, 2), (10**6, 256)]]
    for scores, positions in results[1:]:
        assert np.array_equal(scores, results[0][0]) and np.array_equal(positions, results[0][1])
    scores, positions = results[0]
    assert list(positions[0][:5]) == [10, 50, 120, 260, 399]
    for row_scores, row_positions in zip(scores, positions):  # score descending, then position ascending
        pairs = list(zip((-row_scores).tolist(), row_positions.tolist()))
        assert pairs == sorted(pairs)


def test_faiss_indexes_report_recall_deterministically(tmp_path):
    import torch

    from harness.cache import StageCache
    from harness.models.functional import similarity_matrix
    from harness.scale import faiss_index
    from harness.scale.vectors import ShardedVectors, exact_search

    rng = np.random.default_rng(3)
    centres = rng.standard_normal((50, 32))
    vectors = (centres[rng.integers(0, 50, 3000)] + rng.standard_normal((3000, 32))).astype(np.float32)
    sharded = ShardedVectors(write_shards(tmp_path / "v", [vectors[:1500], vectors[1500:]]))
    queries = torch.from_numpy(vectors[rng.choice(3000, 40, replace=False)] + 0.1)
    _, exact = exact_search(queries, sharded, 50, lambda q, d: similarity_matrix(q, d, "cosine"))
    params = {
        "nlist": 16,
        "nprobe": 2,
        "pq_m": 8,
        "pq_nbits": 6,
        "hnsw_m": 16,
        "ef_construction": 64,
        "ef_search": 64,
        "train_size": 1000,
    }
    recalls = {}
    for kind in ("ivf_flat", "ivf_pq", "hnsw"):
        runs = []
        for name in ("x", "y"):  # built twice in two caches: the same index, the same results
            index = faiss_index.cached_index(StageCache(tmp_path / name), sharded, kind, params, ["s0", "s1"], True, seed=0)
            runs.append(faiss_index.search(index, queries.numpy(), 50, params, True)[1])
        assert np.array_equal(runs[0], runs[1])
        recalls[kind] = faiss_index.recall_at(runs[0], exact, 50)
    assert 0.3 < recalls["ivf_pq"] < recalls["ivf_flat"] < 1.0 and recalls["hnsw"] > 0.9, recalls
    index = faiss_index.cached_index(StageCache(tmp_path / "x"), sharded, "ivf_flat", params, ["s0", "s1"], True, 0)
    every_list = faiss_index.search(index, queries.numpy(), 50, {**params, "nprobe": 16}, True)[1]
    assert faiss_index.recall_at(every_list, exact, 50) == pytest.approx(1.0, abs=0.002)  # nprobe=nlist: exact


def test_the_dense_retriever_puts_its_index_recall_in_the_run_info(tiny_model, tmp_path):
    corpus = Corpus(300)
    context = fresh_context(tmp_path, "d")
    options = dict(model=tiny_model, shard_size=128, top_k=20, index="ivf_flat", nlist=8, nprobe=2, recall_k=10)
    retriever = build(context, **options)
    run = retriever.retrieve(corpus, QUERIES)
    assert all(len(docs) == 20 for docs in run.values())
    info = retriever.run_info(corpus, QUERIES)
    assert info["index"] == "ivf_flat" and 0.0 < info["recall@10"] <= 1.0 and info["queries"] == 3
    again = build(context, **options)  # a cached run: the same info, nothing searched again
    assert again.run_info(corpus, QUERIES) == info and again._scorer is None
    assert context.cache.stats["faiss-index.miss"] == 1 and context.cache.stats["index-recall.hit"] == 1
    exact = build(context, **{**options, "index": "exact"})
    assert exact.run_info(corpus, QUERIES) is None


def test_too_few_vectors_to_train_is_a_config_error(tiny_model, tmp_path):
    from harness.errors import ConfigError

    retriever = build(fresh_context(tmp_path, "e"), model=tiny_model, index="ivf_pq", pq_m=8, pq_nbits=8)
    with pytest.raises(ConfigError, match="retriever.index=ivf_pq: FAISS cannot train on 8 vectors"):
        retriever.retrieve(Corpus(8), QUERIES)


@pytest.mark.slow  # worker processes import torch and load the model: about a minute each on 2 cores
@pytest.mark.parametrize("executor", ["local", "ray"])
def test_parallel_executors_give_the_serial_vectors(executor, tiny_model, tmp_path):
    corpus = Corpus(12)
    serial = build(fresh_context(tmp_path, "serial"), model=tiny_model, shard_size=3)
    expected_run = serial.retrieve(corpus, QUERIES)
    _, expected = corpus_arrays(serial, corpus)
    context = fresh_context(tmp_path, executor)
    parallel = build(context, model=tiny_model, shard_size=3, executor=executor, workers=2)
    assert parallel.retrieve(corpus, QUERIES) == expected_run
    assert context.cache.stats["corpus-shards.miss"] == 4  # the workers' counts, handed back
    _, arrays = corpus_arrays(parallel, corpus)
    assert all(a.tobytes() == e.tobytes() for a, e in zip(arrays, expected))


def test_an_approximate_index_recall_lands_in_run_info_json(tiny_root, tiny_model, tmp_path):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from harness.config import conf_dir, register_schema
    from harness.pipeline import run_experiment

    register_schema()
    overrides = [
        "dataset=msmarco-passage-mini/trec-dl-2019",
        "retriever=dense",
        f"retriever.model={tiny_model}",
        "retriever.index=hnsw",
        "retriever.top_k=5",
        "retriever.recall_k=3",
        "retriever.shard_size=4",
        "tracking=none",
        f"results_dir={tmp_path / 'results'}",
        f"data_root={tiny_root}",
        "show_progress=false",
    ]
    with initialize_config_dir(str(conf_dir()), version_base="1.3"):
        config = OmegaConf.to_container(compose("config", overrides=overrides), resolve=True)
    result = run_experiment(config)
    info = json.loads((result.run_dir / "run_info.json").read_text())
    assert info["retrieval"]["index"] == "hnsw" and 0.0 < info["retrieval"]["recall@3"] <= 1.0
    assert info["cache"]["corpus-shards.miss"] == 3  # 10 passages in shards of 4


def test_the_faiss_flat_index_finds_what_exact_search_finds(tiny_model, tmp_path):
    corpus = Corpus(40)
    context = fresh_context(tmp_path, "f")
    exact = build(context, model=tiny_model, shard_size=16, top_k=10).retrieve(corpus, QUERIES)
    flat = build(context, model=tiny_model, shard_size=16, top_k=10, index="faiss").retrieve(corpus, QUERIES)
    assert context.cache.stats["corpus-shards.hit"] == 3  # the second search read the first one's vectors
    for qid, docs in exact.items():
        assert set(flat[qid]) == set(docs)
        assert [flat[qid][d] for d in docs] == pytest.approx(list(docs.values()), abs=1e-5)
