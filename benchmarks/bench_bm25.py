"""BM25 throughput: `retriever=bm25` against bm25s used directly, same corpus, same machine.

    python benchmarks/bench_bm25.py [--repeats 3] [--out docs/benchmarks-bm25.md]
    python benchmarks/bench_bm25.py --rerun 3     # cached re-run overhead (prints its table, writes nothing)

Indexing (docs/s) and querying (queries/s, top-1000) of the msmarco-passage-mini
corpus (31,362 passages) with TREC DL 2019+2020 topics (243 queries, repeated to
2,430). The ratio harness/bm25s is the harness's overhead: below 1.0 the
harness is slower. Harness indexing includes reading the corpus through
ir_datasets and writing the index to the stage cache; bm25s indexing includes
reading the TSV with plain Python, as a user of bm25s alone would.

``--rerun N``: the wall time of a fully cached ``harness run`` (BM25, DL19,
default tracking to MLflow, and with ``tracking=none``) against a bare ranx
script computing the same four metrics from the same run file and qrels, each
a fresh process, the three alternating in each of N rounds (medians reported).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import bm25s
import Stemmer

from common import machine, median_seconds
from harness.data import datasets
from harness.cache import StageCache
from harness.components import Context
from harness.plugin_manager import get_plugin_manager
from harness.registry import ComponentRegistry

DATASET = "msmarco-passage-mini/trec-dl-2019"


def alternating(ours, theirs, repeats: int) -> tuple[float, float]:
    """Median seconds of each, the two alternating in every round: load from elsewhere on a shared
    machine then hits both alike (timing all of one side first let it drift into one side)."""
    rounds = [(median_seconds(ours, 1), median_seconds(theirs, 1)) for _ in range(repeats)]
    return statistics.median(o for o, _ in rounds), statistics.median(t for _, t in rounds)


def direct_index(collection: Path):
    ids, texts = [], []
    with open(collection, encoding="utf-8") as tsv:
        for line in tsv:
            pid, text = line.rstrip("\n").split("\t", 1)
            ids.append(pid)
            texts.append(text)
    model = bm25s.BM25(k1=0.9, b=0.4, method="lucene")
    model.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False), show_progress=False
    )
    return model, ids


def direct_query(model, ids, texts):
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False)
    docs, scores = model.retrieve(tokens, k=1000, show_progress=False)
    return [{ids[i]: float(s) for i, s in zip(row, srow) if s > 0} for row, srow in zip(docs, scores)]


# What a user without the harness would write: read the files, the four measures, print them.
BARE_RANX = """
import sys
from ranx import Qrels, Run, evaluate
qrels, run = Qrels.from_file(sys.argv[1], kind="trec"), Run.from_file(sys.argv[2], kind="trec")
print(evaluate(qrels, run, ["ndcg@10", "mrr@10-l2", "recall@100-l2", "map-l2"]))
"""


def rerun(rounds: int) -> None:
    """Cached re-run of ``harness run`` vs the bare ranx script, fresh processes, alternating."""
    root = datasets.default_data_root() / "msmarco-passage-mini"
    with tempfile.TemporaryDirectory() as tmp:
        base = [sys.executable, "-m", "harness.cli", "run", f"results_dir={tmp}", "run_name=bm25"]
        subprocess.run(base, check=True, capture_output=True)  # fills the stage cache (and numba's)
        script = Path(tmp) / "bare_ranx.py"
        script.write_text(BARE_RANX)
        commands = {
            "harness run (cached, tracking=mlflow)": base,
            "harness run (cached, tracking=none)": [*base, "tracking=none"],
            "bare ranx script": [
                sys.executable,
                str(script),
                str(root / "qrels.dl19-passage.txt"),
                str(Path(tmp) / "default" / "bm25" / "run.trec"),
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        load = os.getloadavg()
        for _ in range(rounds):
            for name, cmd in commands.items():
                started = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                times[name].append(time.perf_counter() - started)
    bare = statistics.median(times["bare ranx script"])
    print(f"Measured on: {machine()}; load average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after; {rounds} rounds\n")
    print("| command | median s | all rounds s | ratio to the bare ranx script |\n| --- | ---: | --- | ---: |")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {', '.join(f'{v:.2f}' for v in values)} | {median / bare:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--query-repeat", type=int, default=10)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "benchmarks-bm25.md"))
    parser.add_argument("--rerun", type=int, default=0, metavar="N", help="cached re-run overhead, N rounds")
    args = parser.parse_args()
    if args.rerun:
        return rerun(args.rerun)
    logging.disable(logging.INFO)
    pm = get_plugin_manager()
    root = datasets.default_data_root()
    dataset = datasets.load(DATASET, pm, root)
    topics = [
        q
        for name in ("trec-dl-2019", "trec-dl-2020")
        for q in datasets.load(f"msmarco-passage-mini/{name}", pm, root).queries_iter()
    ]
    queries = [SimpleNamespace(query_id=f"{q.query_id}-{i}", text=q.text) for i in range(args.query_repeat) for q in topics]
    n_docs = sum(1 for _ in dataset.docs_iter())
    registry = ComponentRegistry(pm)

    with tempfile.TemporaryDirectory() as tmp:

        def harness_retriever(cache_dir: str):
            ctx = Context(cache=StageCache(Path(tmp) / cache_dir), dataset_id=DATASET, data_root=str(root), show_progress=False)
            return registry.create("retriever", {"name": "bm25"}, ctx)

        counter = iter(range(10**6))
        t_index_h, t_index_d = alternating(
            lambda: harness_retriever(f"fresh{next(counter)}").index(dataset),
            lambda: direct_index(root / "msmarco-passage-mini" / "collection.tsv"),
            args.repeats,
        )
        warm = harness_retriever("warm")
        warm.index(dataset)
        model, ids = direct_index(root / "msmarco-passage-mini" / "collection.tsv")
        texts = [q.text for q in queries]
        warm.retrieve(dataset, queries[:1])  # loads the index once, as every later call reuses it
        t_query_h, t_query_d = alternating(
            lambda: warm.retrieve(dataset, queries), lambda: direct_query(model, ids, texts), args.repeats
        )

    rows = [
        ("indexing", "docs/s", n_docs / t_index_h, n_docs / t_index_d),
        ("querying, top-1000", "queries/s", len(queries) / t_query_h, len(queries) / t_query_d),
    ]
    table = [
        "| operation | unit | harness `retriever=bm25` | bm25s directly | ratio harness/bm25s |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    table += [f"| {op} | {unit} | {h:,.0f} | {d:,.0f} | {h / d:.2f}x |" for op, unit, h, d in rows]
    report = "\n".join(
        [
            "# Benchmark: BM25 (harness vs bm25s)",
            "",
            f"Measured on: {machine()}; bm25s {bm25s.__version__}.",
            f"Corpus: {DATASET.split('/')[0]} ({n_docs:,} passages); {len(queries):,} queries "
            f"(TREC DL 2019+2020 topics x {args.query_repeat}); median of {args.repeats} rounds, harness and bm25s "
            f"alternating in each; load average {os.getloadavg()[0]:.1f} at the end.",
            f"Command: `python benchmarks/bench_bm25.py --repeats {args.repeats}`",
            "",
            *table,
            "",
            "Harness querying is `retrieve` on an index already loaded from the stage cache (one call before the",
            "timing loads it, as a run does once) and includes building the run dicts, as the bm25s side does;",
            "harness indexing includes reading through ir_datasets and writing the index into the cache.",
            "",
        ]
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report)
    print(report)


if __name__ == "__main__":
    main()
