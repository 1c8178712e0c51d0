"""Resume: a dense corpus encoding killed (SIGKILL) at half way, then run again, against a fresh run.

    python benchmarks/bench_resume.py [--size 30000] [--shards 10] [--work DIR]

The corpus is bench_scale's synthetic one (mini collection's vocabulary and
lengths), the encoder its small random one, encoded by the dense retriever in
``--shards`` shards. Three subprocesses, one at a time: a fresh encoding into
an empty cache; a second one into another empty cache, killed with SIGKILL as
soon as half its shards are in the cache; and a re-run on that cache, which
encodes only the missing shards. Each process's wall time (start-up included)
and its time inside ``corpus_vectors`` are reported; the goal is a re-run at
<= 0.6x of the fresh run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_scale
from common import machine


def child(args) -> None:
    import logging

    import torch

    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)  # as bench_scale: a loaded shared machine
    work = Path(args.work)
    corpus = bench_scale.SyntheticCorpus(work / "corpus.tsv", args.size)
    ctx = bench_scale.context(Path(args.cache))
    retriever = bench_scale.component(
        ctx,
        "retriever",
        {
            "name": "dense",
            "model": bench_scale.random_encoder(work / "random-encoder"),
            "batch_size": 64,
            "passage_max_length": 128,
            "shard_size": -(-args.size // args.shards),
        },
    )
    started = time.perf_counter()
    retriever.corpus_vectors(corpus)
    print("RESULT " + json.dumps({"encode_s": time.perf_counter() - started, "cache": dict(ctx.cache.stats)}), flush=True)


def command(args, cache: Path) -> list[str]:
    return [
        sys.executable,
        __file__,
        "--child",
        "--size",
        str(args.size),
        "--shards",
        str(args.shards),
        "--work",
        str(args.work),
        "--cache",
        str(cache),
    ]


def finished_shards(cache: Path) -> int:
    folder = cache / "corpus-shards"
    return (
        sum(1 for f in folder.glob("*") if not f.name.startswith(".") and (f / "manifest.json").exists())
        if folder.is_dir()
        else 0
    )


def timed(args, cache: Path) -> dict:
    started = time.perf_counter()
    proc = subprocess.run(command(args, cache), capture_output=True, text=True)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise SystemExit(f"bench_resume: the encoding failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return {**json.loads(lines[-1][7:]), "process_s": time.perf_counter() - started}


def killed_at_half(args, cache: Path) -> dict:
    started = time.perf_counter()
    proc = subprocess.Popen(command(args, cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and finished_shards(cache) < args.shards // 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return {"killed_after_s": time.perf_counter() - started, "shards_done": finished_shards(cache), "returncode": proc.returncode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=30000)
    parser.add_argument("--shards", type=int, default=10)
    parser.add_argument("--work", default=None)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", default=str(Path(__file__).parent / "results" / "resume.json"))
    args = parser.parse_args()
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as tmp:
        args.work = Path(args.work or tmp)
        args.work.mkdir(parents=True, exist_ok=True)
        bench_scale.write_corpus(args.work / "corpus.tsv", args.size)
        bench_scale.random_encoder(args.work / "random-encoder")
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        fresh = timed(args, args.work / "cache-fresh")
        killed = killed_at_half(args, args.work / "cache-killed")
        rerun = timed(args, args.work / "cache-killed")
    result = {
        "machine": machine(),
        "load": load,
        "size": args.size,
        "shards": args.shards,
        "fresh": fresh,
        "killed": killed,
        "rerun": rerun,
        "process_ratio": rerun["process_s"] / fresh["process_s"],
        "encode_ratio": rerun["encode_s"] / fresh["encode_s"],
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
