"""Compile ranx's numba code once at set-up, so that the first `harness run` does not.

ranx compiles its measures with ``numba.njit(cache=True)`` on first use (about a minute on a 2-core
machine, with nothing printed) and keeps the machine code beside its sources. Evaluating a tiny run
here, through the harness's own evaluation and with every measure it reports by default plus the
common others, fills that cache; later processes load it in milliseconds.
"""

from __future__ import annotations

import time

from harness.evaluation import evaluate

# The defaults of `evaluation.metrics` and the measures the docs and examples use.
MEASURES = [
    "ndcg@10",
    "ndcg@100",
    "mrr@10",
    "mrr",
    "recall@10",
    "recall@100",
    "recall@1000",
    "map",
    "map@1000",
    "precision@10",
    "r-precision",
    "hit_rate@10",
]


def main() -> None:
    start = time.perf_counter()
    qrels = {"q1": {"d1": 2, "d2": 1}, "q2": {"d3": 1}}
    run = {"q1": {"d1": 0.9, "d3": 0.5, "d2": 0.1}, "q2": {"d3": 0.7, "d1": 0.2}}
    print("set-up: compiling ranx's measures once (numba; about a minute on 2 cores) ...", flush=True)
    for level in (1, 2):  # graded (level 1) and the DL convention's binary "-l2" variants
        evaluate(qrels, run, MEASURES, binary_relevance_level=level)
    print(f"set-up: ranx compiled and cached in {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
