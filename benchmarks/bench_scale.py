"""Cost curves: BM25 and dense retrieval on synthetic corpora of growing size.

    python benchmarks/bench_scale.py [--quick] [--sizes 10000,100000,1000000] [--dense-sizes ...]
                                     [--minilm 10000] [--out docs/benchmarks-scale.md]

Synthetic passages (seeded) take the length of a random msmarco-passage-mini
passage and draw 70% of their words from it and 30% from the collection's
unigram distribution, so a synthetic corpus of any size has the real one's
vocabulary, length profile and some topical structure; the queries are the real TREC DL 2019+2020 topics (the first 100).
Each measure at each size runs in its own subprocess; peak RSS is that
process's ``ru_maxrss``. Measured:

- BM25 (``retriever=bm25``): indexing and querying time (top-100), peak RSS.
- Dense (``retriever=dense`` machinery): sharded encoding with a small random
  encoder (1-layer BERT, hidden 64, the packaged tokenizer) and, at one size,
  all-MiniLM-L6-v2 itself; exact blocked search vs FAISS IVF-flat (nprobe
  swept, recall@100 against exact) and HNSW (sizes up to 100k); peak RSS after
  encoding and after search.

A log-log fit of time against size gives each measure's exponent; the plot
goes to docs/img/bench_scale.png. ``--quick`` runs 2k and 10k passages (about
a minute on an idle 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = Path(os.environ.get("HARNESS_DATA_ROOT", ROOT.parent / "shared" / "data")) / "msmarco-passage-mini"
QUERIES = 100
THREADS = 1


# -- the synthetic corpus ----------------------------------------------------

TOPICAL = 0.7  # share of a synthetic passage's words drawn from one real passage (its "topic")


def mini_profile() -> tuple[list[str], list[float], list[list[int]]]:
    """The mini collection's vocabulary, unigram probabilities, and each passage as word indices."""
    counts: Counter[str] = Counter()
    passages = []
    with open(DATA / "collection.tsv", encoding="utf-8") as tsv:
        for line in tsv:
            passages.append(line.rstrip("\n").split("\t", 1)[1].split())
            counts.update(passages[-1])
    vocab = sorted(counts)
    index = {w: i for i, w in enumerate(vocab)}
    total = sum(counts.values())
    return vocab, [counts[w] / total for w in vocab], [[index[w] for w in p] for p in passages]


def write_corpus(path: Path, size: int, seed: int = 0, chunk: int = 20000) -> Path:
    """``size`` synthetic passages as ``pid<TAB>text`` (seeded), written chunk by chunk.

    Each passage takes the length of a random real passage and draws its words
    from that passage (``TOPICAL`` of them) or from the whole collection's
    unigram distribution (the rest): the real vocabulary and length profile,
    with topics (independent unigram draws alone give vectors with no
    structure for an IVF index to find).
    """
    import numpy as np

    if path.exists():
        return path
    vocab, probs, passages = mini_profile()
    vocab_array = np.array(vocab, dtype=object)
    flat = np.fromiter((w for p in passages for w in p), dtype=np.int64)
    lengths = np.array([len(p) for p in passages])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".partial")
    with open(tmp, "w", encoding="utf-8") as out:
        for first in range(0, size, chunk):
            n = min(chunk, size - first)
            topic = rng.integers(0, len(passages), n)
            lens = np.maximum(lengths[topic], 1)
            owner = np.repeat(topic, lens)
            own = flat[starts[owner] + (rng.random(len(owner)) * np.maximum(lengths[owner], 1)).astype(np.int64)]
            words = np.where(rng.random(len(owner)) < TOPICAL, own, rng.choice(len(vocab), size=len(owner), p=probs))
            ends = np.cumsum(lens)
            for i, (a, b) in enumerate(zip(ends - lens, ends)):
                out.write(f"s{first + i}\t{' '.join(vocab_array[words[a:b]])}\n")
    tmp.rename(path)
    return path


def topics() -> list:
    from collections import namedtuple

    Query = namedtuple("Query", "query_id text")
    found = []
    for name in ("topics.dl19-passage.txt", "topics.dl20.txt"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            qid, text = line.split("\t", 1)
            found.append(Query(qid, text))
    return found[:QUERIES]


class SyntheticCorpus:
    """A TSV corpus streamed from disk (never read whole), with the file declared for cache keys."""

    def __init__(self, path: Path, size: int):
        self.path, self.size = Path(path), size
        self.harness_data_files = [self.path]

    def docs_count(self) -> int:
        return self.size

    def docs_iter(self):
        from collections import namedtuple

        Doc = namedtuple("Doc", "doc_id text")
        Doc.default_text = lambda self: self.text
        with open(self.path, encoding="utf-8") as tsv:
            for line in tsv:
                pid, text = line.rstrip("\n").split("\t", 1)
                yield Doc(pid, text)


# -- the measures, one subprocess each -----------------------------------------


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def context(cache: Path):
    from harness.cache import StageCache
    from harness.components import Context

    return Context(
        cache=StageCache(cache), dataset_id="synthetic", data_root=str(cache), device="cpu", seed=0, show_progress=False
    )


def component(ctx, kind: str, options: dict):
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry

    return ComponentRegistry(get_plugin_manager()).create(kind, options, ctx)


def measure_bm25(corpus: SyntheticCorpus, work: Path) -> dict:
    retriever = component(context(work / "cache"), "retriever", {"name": "bm25", "top_k": 100})
    started = time.perf_counter()
    retriever._loaded = retriever.index(corpus)
    index_s = time.perf_counter() - started
    rss_index = peak_rss_mb()
    queries = topics()
    started = time.perf_counter()
    retriever.retrieve(corpus, queries)
    return {
        "index_s": index_s,
        "query_s": time.perf_counter() - started,
        "queries": len(queries),
        "rss_index_mb": rss_index,
        "rss_mb": peak_rss_mb(),
    }


def random_encoder(folder: Path) -> str:
    """A 1-layer BERT (hidden 64) with seeded random weights and the packaged tokenizer."""
    import torch
    from transformers import BertConfig, BertModel

    from harness.models.loading import load_tokenizer

    if not (folder / "config.json").exists():
        tokenizer = load_tokenizer(None)
        config = BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=128,
            max_position_embeddings=512,
        )
        torch.manual_seed(0)
        model = BertModel(config)
        with torch.no_grad():  # no shared position component: vectors are a (transformed) bag of words
            model.embeddings.position_embeddings.weight.zero_()
            model.embeddings.token_type_embeddings.weight.zero_()
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return str(folder)


def measure_dense(corpus: SyntheticCorpus, work: Path, model: str | None, search: bool) -> dict:
    from harness.models.functional import similarity_matrix
    from harness.scale import faiss_index
    from harness.scale.vectors import exact_search

    model_path = random_encoder(work.parent / "random-encoder") if model == "random" else model
    shard = max(1000, min(50000, corpus.size // 10))
    retriever = component(
        context(work / "cache"),
        "retriever",
        {"name": "dense", "model": model_path, "top_k": 100, "shard_size": shard, "batch_size": 64, "passage_max_length": 128},
    )
    started = time.perf_counter()
    vectors = retriever.corpus_vectors(corpus)
    out = {
        "encode_s": time.perf_counter() - started,
        "shard_size": shard,
        "dim": vectors.dim,
        "rss_encode_mb": peak_rss_mb(),
        "vectors_mb": round(len(vectors) * vectors.dim * 4 / 2**20, 1),
    }
    if not search:
        return out
    queries = topics()
    q = retriever.scorer.encode([x.text for x in queries], query=True)
    score = lambda a, b: similarity_matrix(a, b, "cosine")
    started = time.perf_counter()
    _, exact = exact_search(q, vectors, 100, score)
    out.update(exact_s=time.perf_counter() - started, rss_exact_mb=peak_rss_mb())
    nlist = 2 ** round(math.log2(4 * math.sqrt(len(vectors))))
    params = {
        "nlist": nlist,
        "nprobe": 1,
        "pq_m": 8,
        "pq_nbits": 8,
        "hnsw_m": 32,
        "ef_construction": 100,
        "ef_search": 128,
        "train_size": min(len(vectors), 40 * nlist),
    }
    keys = [Path(f).name for f in vectors.folders]
    started = time.perf_counter()
    index = faiss_index.cached_index(retriever.context.cache, vectors, "ivf_flat", params, keys, True, 0)
    out.update(ivf_build_s=time.perf_counter() - started, nlist=nlist, ivf=[])
    for nprobe in (4, 8, 16, 32, 64, 128):
        if nprobe > nlist:
            break
        started = time.perf_counter()
        _, found = faiss_index.search(index, q.numpy(), 100, {**params, "nprobe": nprobe}, True)
        seconds = time.perf_counter() - started
        out["ivf"].append({"nprobe": nprobe, "search_s": seconds, "recall@100": faiss_index.recall_at(found, exact, 100)})
    out["rss_ivf_mb"] = peak_rss_mb()
    if len(vectors) <= 100000:
        started = time.perf_counter()
        hnsw = faiss_index.cached_index(retriever.context.cache, vectors, "hnsw", params, keys, True, 0)
        build = time.perf_counter() - started
        started = time.perf_counter()
        _, found = faiss_index.search(hnsw, q.numpy(), 100, params, True)
        out["hnsw"] = {
            "build_s": build,
            "search_s": time.perf_counter() - started,
            "ef_search": 128,
            "recall@100": faiss_index.recall_at(found, exact, 100),
        }
    return out


def child(args) -> None:
    import logging

    import torch

    logging.basicConfig(level=logging.WARNING)
    # On a loaded shared machine torch's default threads spin against each other (5x slower measured here).
    torch.set_num_threads(args.threads)
    corpus = SyntheticCorpus(Path(args.corpus), args.size)
    work = Path(args.work)
    if args.child == "bm25":
        result = measure_bm25(corpus, work)
    else:
        result = measure_dense(corpus, work, None if args.child == "minilm" else "random", True)
    print("RESULT " + json.dumps(result))


def run_child(kind: str, size: int, corpus: Path, work: Path) -> dict:
    import shutil

    shutil.rmtree(work, ignore_errors=True)  # an empty cache: every stage computed, none read back
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--size",
            str(size),
            "--corpus",
            str(corpus),
            "--work",
            str(work),
            "--threads",
            str(THREADS),
        ],
        capture_output=True,
        text=True,
    )
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise SystemExit(f"bench_scale: {kind} at {size} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT ") :])
    result["process_s"] = time.perf_counter() - started
    print(f"  {kind:6s} {size:>9,d}: " + json.dumps({k: v for k, v in result.items() if k not in ("ivf",)}), flush=True)
    return result


# -- report ------------------------------------------------------------------


def exponent(points: list[tuple[int, float]]) -> float | None:
    import numpy as np

    points = [(n, t) for n, t in points if t and t > 0]
    if len(points) < 2:
        return None
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def best_ivf(dense: dict, target: float = 0.98) -> dict | None:
    """The fastest IVF setting reaching ``target`` recall@100 (None when none does)."""
    good = [r for r in dense.get("ivf", []) if r["recall@100"] >= target]
    return min(good, key=lambda r: r["search_s"]) if good else None


def curves(results: dict) -> dict[str, list[tuple[int, float]]]:
    out: dict[str, list[tuple[int, float]]] = {}
    for size, r in sorted(results["bm25"].items(), key=lambda kv: int(kv[0])):
        out.setdefault("BM25 indexing", []).append((int(size), r["index_s"]))
        out.setdefault("BM25 querying", []).append((int(size), r["query_s"]))
    for size, r in sorted(results["dense"].items(), key=lambda kv: int(kv[0])):
        out.setdefault("dense encoding (random encoder)", []).append((int(size), r["encode_s"]))
        out.setdefault("exact search", []).append((int(size), r["exact_s"]))
        best = best_ivf(r)
        if best:
            out.setdefault("IVF-flat search (recall@100 >= 0.98)", []).append((int(size), best["search_s"]))
    return out


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, points in curves(results).items():
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages")
    ax.set_ylabel("seconds")
    ax.set_title("harness cost curves (synthetic corpora, 100 queries)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def markdown(results: dict) -> str:
    lines = [
        f"Machine: {results['machine']}; load average at start {results['load']}.",
        "",
        "| passages | BM25 index s | BM25 query s (100 q) | BM25 peak RSS MB | dense encode s | "
        "encode peak RSS MB | vectors MB | exact search s | IVF nlist/nprobe | IVF search s | recall@100 | "
        "exact/IVF | HNSW search s (recall) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    sizes = sorted({int(s) for s in results["bm25"]} | {int(s) for s in results["dense"]})
    for n in sizes:
        b, d = results["bm25"].get(str(n), {}), results["dense"].get(str(n), {})
        best = best_ivf(d) if d else None
        hnsw = d.get("hnsw")
        cells = [
            f"{n:,}",
            _f(b.get("index_s")),
            _f(b.get("query_s")),
            _f(b.get("rss_mb"), 0),
            _f(d.get("encode_s")),
            _f(d.get("rss_encode_mb"), 0),
            _f(d.get("vectors_mb"), 1),
            _f(d.get("exact_s"), 3),
            f"{d['nlist']}/{best['nprobe']}" if best else "-",
            _f(best and best["search_s"], 4),
            _f(best and best["recall@100"], 3),
            f"{d['exact_s'] / best['search_s']:.1f}x" if best else "-",
            f"{hnsw['search_s']:.4f} ({hnsw['recall@100']:.3f})" if hnsw else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Fitted exponents (time ~ passages^e):", ""]
    for name, points in curves(results).items():
        e = exponent(points)
        lines.append(f"- {name}: " + (f"e = {e:.2f} over {len(points)} sizes" if e is not None else "one size only"))
    for n, m in sorted(results.get("minilm", {}).items()):
        lines.append(
            f"- all-MiniLM-L6-v2 encoding of {int(n):,} passages: {m['encode_s']:.1f} s "
            f"({int(n) / m['encode_s']:.0f} passages/s), peak RSS {m['rss_encode_mb']:.0f} MB"
        )
    lines += ["", "IVF-flat recall@100 by nprobe (exact search time in brackets):", ""]
    for label, part in (("random encoder", results["dense"]), ("all-MiniLM-L6-v2", results.get("minilm", {}))):
        for n, d in sorted(part.items(), key=lambda kv: int(kv[0])):
            sweep = ", ".join(f"{r['nprobe']}: {r['recall@100']:.3f} in {r['search_s'] * 1000:.1f} ms" for r in d["ivf"])
            hnsw = d.get("hnsw")
            lines.append(
                f"- {label}, {int(n):,} passages, nlist {d['nlist']} (exact {d['exact_s'] * 1000:.1f} ms): "
                f"{sweep}"
                + (f"; HNSW (M 32, efSearch 128): {hnsw['recall@100']:.3f} in {hnsw['search_s'] * 1000:.1f} ms" if hnsw else "")
            )
    return "\n".join(lines) + "\n"


def _f(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2k and 10k passages, no MiniLM (about a minute)")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="BM25 corpus sizes")
    parser.add_argument("--dense-sizes", default=None, help="dense corpus sizes (default: --sizes)")
    parser.add_argument("--minilm", type=int, default=10000, help="passages encoded with MiniLM (0: none)")
    parser.add_argument("--work", default=None, help="folder for corpora and caches (default: a temporary one)")
    parser.add_argument("--json", default=str(HERE / "results" / "scale.json"))
    parser.add_argument("--out", default=None, help="write the Markdown table here")
    parser.add_argument("--plot", default=str(ROOT / "docs" / "img" / "bench_scale.png"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads per measuring process")
    parser.add_argument("--child", choices=("bm25", "dense", "minilm"), help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    global THREADS
    THREADS = args.threads
    if args.quick:
        args.sizes, args.dense_sizes, args.minilm = "2000,10000", "2000,10000", 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    dense_sizes = [int(s) for s in (args.dense_sizes or args.sizes).split(",") if s]
    from common import machine

    results = {
        "machine": machine(),
        "threads": args.threads,
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "bm25": {},
        "dense": {},
        "minilm": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in sorted(set(sizes) | set(dense_sizes) | ({args.minilm} if args.minilm else set())):
            corpus = write_corpus(work / f"corpus-{n}.tsv", n)
            if n in sizes:
                results["bm25"][str(n)] = run_child("bm25", n, corpus, work / f"bm25-{n}")
            if n in dense_sizes:
                results["dense"][str(n)] = run_child("dense", n, corpus, work / f"dense-{n}")
            if n == args.minilm:
                results["minilm"][str(n)] = run_child("minilm", n, corpus, work / f"minilm-{n}")
    results["load_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=1))
    plot(results, Path(args.plot))
    table = markdown(results)
    print(table)
    if args.out:
        Path(args.out).write_text(table)


if __name__ == "__main__":
    main()
