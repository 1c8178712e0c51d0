"""Sweep wall time with and without the stage cache, as a ratio.

A sweep of three rerankers over one BM25 first stage (bm25s over the real
msmarco-passage-mini corpus, 31,362 passages, TREC DL 2019 queries), run by
``harness run -m`` in a subprocess exactly as a user runs it:

- ``use_cache=true`` (fresh cache folder): BM25 indexes and retrieves once,
  the other two jobs read the first stage from the cache;
- ``use_cache=false``: what a plain Hydra sweep does, every job recomputes it;
- a re-run of the finished sweep (resume): every job is skipped.

The rerankers are the third-party demo plugin of the tests
(tests/sweeps/overlap_reranker_plugin.py: query-term overlap, cheap), so the
figure isolates what the cache saves on the first stage; with neural
rerankers the saving per job is the same in seconds, smaller as a ratio.

    python benchmarks/sweep_cache.py [--repeats 2] [--out results/benchmarks/sweep_cache.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWEEP = [
    "-m",
    "retriever=bm25",
    "reranker=overlap",
    "reranker.weight=0,0.5,1",
    "tracking=none",
    "show_progress=false",
    "experiment_name=bench",
]


def install_plugin(site: Path) -> None:
    """The demo reranker as a distribution with a harness.plugins entry point (as the tests do)."""
    shutil.copy(ROOT / "tests/sweeps/overlap_reranker_plugin.py", site / "harness_overlap_reranker.py")
    (site / "overlap_conf/reranker").mkdir(parents=True)
    (site / "overlap_conf/reranker/overlap.yaml").write_text("name: overlap\nweight: 0.0\ntop_k: 100\ndelay: 0.0\n")
    info = site / "harness_overlap_reranker-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: harness-overlap-reranker\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[harness.plugins]\noverlap = harness_overlap_reranker\n")


def sweep(env: dict, results: Path, *extra: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", *SWEEP[:1], f"results_dir={results}", *SWEEP[1:], *extra],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "results/benchmarks/sweep_cache.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "site").mkdir()
        install_plugin(tmp / "site")
        env = {**os.environ, "PYTHONPATH": str(tmp / "site"), "IR_DATASETS_HOME": str(tmp / "irds"), "HF_HUB_OFFLINE": "1"}
        sweep(env, tmp / "warmup", "use_cache=false", "dataset.query_limit=2")  # docstore, numba caches
        times: dict[str, list[float]] = {"cached": [], "uncached": [], "resumed": []}
        for repeat in range(args.repeats):
            times["uncached"].append(sweep(env, tmp / f"u{repeat}", "use_cache=false"))
            times["cached"].append(sweep(env, tmp / f"c{repeat}"))
            times["resumed"].append(sweep(env, tmp / f"c{repeat}"))
    best = {name: min(values) for name, values in times.items()}
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "times_s": times,
        "best_s": best,
        "uncached_over_cached": best["uncached"] / best["cached"],
        "uncached_over_resumed": best["uncached"] / best["resumed"],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
