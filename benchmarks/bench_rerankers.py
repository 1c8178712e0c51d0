"""Throughput of the harness's bi-encoder and cross-encoder against sentence-transformers.

Same weights (the packaged all-MiniLM-L6-v2; for the cross-encoder a one-score
sequence-classification model built from that backbone with a seeded head and
saved to a temporary folder), same inputs (real passages of the official DL19
BM25 top-100), same machine, same batch size and max length. Ours and theirs
alternate, repeated, the best time of each kept (the least disturbed by other load).
On CUDA the same runs repeat in bf16, plus the encoder's tokens/s.

    pip install -e '.[bench]'
    python benchmarks/bench_rerankers.py --pairs 256 --repeats 3 --out results/bench/rerankers.json

``--fast``: the CPU fast path instead (``dtype=int8``, see harness/models/int8.py):
speed of the int8 bi-encoder and cross-encoder against sentence-transformers
fp32 (and the harness's own fp32) on the same pairs, then the nDCG@10 change
int8 brings on all judged queries of DL19 and DL20, reranking the official BM25
top-100 (``retriever=run``) through ``harness run`` itself.

    pip install -e '.[bench,fast]'
    python benchmarks/bench_rerankers.py --fast --pairs 128 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def real_pairs(n: int) -> tuple[list[str], list[str]]:
    """The first ``n`` (query, passage) pairs of the official DL19 BM25 top-100, in run order."""

    from harness.data import datasets
    from harness.plugin_manager import get_plugin_manager

    ds = datasets.load("msmarco-passage-mini/trec-dl-2019", get_plugin_manager(), datasets.default_data_root())
    texts = {q.query_id: q.text for q in ds.queries_iter()}
    pairs = [(sd.query_id, sd.doc_id) for sd, _ in zip(ds.scoreddocs_iter(), range(n))]
    store = ds.docs_store()
    return [texts[q] for q, _ in pairs], [store.get(d).text for _, d in pairs]


def race(ours, theirs, repeats: int) -> tuple[float, float, float]:
    """Best wall time of each and the median ratio of the rounds, ours and theirs alternating
    so that load from elsewhere on the machine hits both alike."""
    import statistics

    rounds = []
    for _ in range(repeats):
        times = []
        for fn in (ours, theirs):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        rounds.append(times)
    ratio = statistics.median(t / o for o, t in rounds)
    return min(o for o, _ in rounds), min(t for _, t in rounds), ratio


def cross_encoder_folder(folder: Path) -> str:
    import torch
    from transformers import AutoModelForSequenceClassification

    from harness.models.loading import load_tokenizer, packaged_minilm

    torch.manual_seed(0)
    AutoModelForSequenceClassification.from_pretrained(str(packaged_minilm()), num_labels=1).save_pretrained(folder)
    load_tokenizer(None).save_pretrained(folder)
    return str(folder)


def bench_bi(queries, passages, args, device: str, dtype: str) -> dict:
    import torch
    from sentence_transformers import SentenceTransformer

    from harness.models.bi_encoder import BiEncoder
    from harness.models.loading import packaged_minilm

    ours = BiEncoder(None, device=device, dtype=dtype, batch_size=args.batch_size, passage_max_length=256)
    kwargs = {"torch_dtype": ours.dtype} if dtype != "float32" else {}
    theirs = SentenceTransformer(str(packaged_minilm()), device=device, model_kwargs=kwargs)
    theirs.max_seq_length = 256
    ours_fn = lambda: ours.encode(passages)
    theirs_fn = lambda: theirs.encode(passages, batch_size=args.batch_size, convert_to_tensor=True)
    ours_fn(), theirs_fn()  # warm up
    t_ours, t_theirs, ratio = race(ours_fn, theirs_fn, args.repeats)
    diff = (
        (
            torch.nn.functional.normalize(ours.encode(passages), dim=-1)
            - theirs.encode(passages, batch_size=args.batch_size, convert_to_tensor=True).float().cpu()
        )
        .abs()
        .max()
        .item()
    )
    tokens = sum(min(len(x), 256) for x in ours.tokenizer(passages)["input_ids"])
    row = speed_row("bi_encoder passages/s", len(passages), t_ours, t_theirs, ratio, diff)
    return {**row, "ours_tokens_per_s": tokens / t_ours}


def speed_row(what: str, n: int, t_ours: float, t_theirs: float, ratio: float, diff: float) -> dict:
    """One speed comparison: items per second on each side, their ratios, and the largest output difference."""
    return {
        "what": what,
        "n": n,
        "ours_per_s": n / t_ours,
        "theirs_per_s": n / t_theirs,
        "ratio_best": t_theirs / t_ours,
        "ratio_median": ratio,
        "max_abs_diff": diff,
    }


def bench_cross(queries, passages, args, device: str, dtype: str) -> dict:
    import torch
    from sentence_transformers import CrossEncoder as STCrossEncoder

    from harness.models.cross_encoder import CrossEncoder

    with tempfile.TemporaryDirectory() as tmp:
        folder = cross_encoder_folder(Path(tmp))
        ours = CrossEncoder(folder, device=device, dtype=dtype, batch_size=args.batch_size, max_length=512)
        kwargs = {"torch_dtype": ours.dtype} if dtype != "float32" else {}
        theirs = STCrossEncoder(folder, device=device, max_length=512, model_kwargs=kwargs)
        pairs = list(zip(queries, passages))
        ours_fn = lambda: ours.predict(queries, passages)
        theirs_fn = lambda: theirs.predict(pairs, batch_size=args.batch_size, activation_fn=torch.nn.Identity())
        ours_fn(), theirs_fn()
        t_ours, t_theirs, ratio = race(ours_fn, theirs_fn, args.repeats)
        diff = max(abs(a - float(b)) for a, b in zip(ours_fn(), theirs_fn()))
    return speed_row("cross_encoder pairs/s", len(pairs), t_ours, t_theirs, ratio, diff)


def race_many(fns: dict, repeats: int) -> dict[str, float]:
    """Best wall time of each function over ``repeats`` rounds, the functions alternating in each round."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def st_onnx(folder: str, device: str) -> tuple[object, str]:
    """sentence-transformers' own ONNX backend, or None and why it is not there."""
    try:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(folder, backend="onnx", device=device), ""
    except Exception as exc:  # noqa: BLE001 - any reason it does not install or load is the finding
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"


def fast_speed(queries, passages, args, cache_root: Path) -> list[dict]:
    """Speed rows: the int8 scorers against sentence-transformers fp32 and the harness fp32."""
    import shutil

    import torch
    from sentence_transformers import CrossEncoder as STCrossEncoder
    from sentence_transformers import SentenceTransformer

    from harness.cache import StageCache
    from harness.models.bi_encoder import BiEncoder
    from harness.models.cross_encoder import CrossEncoder
    from harness.models.loading import packaged_minilm

    rows = []
    cache = StageCache(cache_root)
    minilm = str(cache_root / "minilm")
    shutil.copytree(packaged_minilm(), minilm)  # ST's ONNX backend writes into the model folder
    ours8 = BiEncoder(None, device="cpu", dtype="int8", batch_size=args.batch_size, cache=cache)
    start = time.perf_counter()
    ours8.encode(passages[:2])
    build_bi = time.perf_counter() - start
    fns = {
        "sentence-transformers fp32": lambda: st.encode(passages, batch_size=args.batch_size),
        "harness fp32": lambda: ours32.encode(passages),
        "harness int8": lambda: ours8.encode(passages),
    }
    st = SentenceTransformer(minilm, device="cpu")
    st.max_seq_length = 256
    ours32 = BiEncoder(None, device="cpu", batch_size=args.batch_size, passage_max_length=256)
    onnx, why = st_onnx(minilm, "cpu")
    if onnx is not None:
        onnx.max_seq_length = 256
        fns["sentence-transformers onnx fp32"] = lambda: onnx.encode(passages, batch_size=args.batch_size)
    for fn in fns.values():
        fn()  # warm up
    best = race_many(fns, args.repeats)
    ref = ours32.encode(passages)
    cos = torch.nn.functional.cosine_similarity(ref, ours8.encode(passages))
    rows.append(
        {
            "what": "bi_encoder passages/s",
            "n": len(passages),
            "per_s": {k: len(passages) / v for k, v in best.items()},
            "int8_build_s": build_bi,
            "st_onnx": why or "ran",
            "int8_vs_fp32": {"min_cosine": cos.min().item(), "mean_cosine": cos.mean().item()},
        }
    )

    folder = cross_encoder_folder(cache_root / "cross")
    ours8 = CrossEncoder(folder, device="cpu", dtype="int8", batch_size=args.batch_size, max_length=512, cache=cache)
    start = time.perf_counter()
    ours8.predict(queries[:2], passages[:2])
    build_cross = time.perf_counter() - start
    ours32 = CrossEncoder(folder, device="cpu", batch_size=args.batch_size, max_length=512)
    theirs = STCrossEncoder(folder, device="cpu", max_length=512)
    pairs = list(zip(queries, passages))
    fns = {
        "sentence-transformers fp32": lambda: theirs.predict(pairs, batch_size=args.batch_size),
        "harness fp32": lambda: ours32.predict(queries, passages),
        "harness int8": lambda: ours8.predict(queries, passages),
    }
    for fn in fns.values():
        fn()
    best = race_many(fns, args.repeats)
    diff = max(abs(a - b) for a, b in zip(ours32.predict(queries, passages), ours8.predict(queries, passages)))
    rows.append(
        {
            "what": "cross_encoder pairs/s",
            "n": len(pairs),
            "per_s": {k: len(pairs) / v for k, v in best.items()},
            "int8_build_s": build_cross,
            "st_onnx": "not tried (bi-encoder's result holds)",
            "int8_vs_fp32": {"max_abs_logit_change": diff},
        }
    )
    return rows


def fast_quality(results: Path, query_limit: int = 0) -> list[dict]:
    """nDCG@10 of fp32 and int8 reranking the official BM25 top-100 via ``harness run``: every judged
    query, or the first ``query_limit`` judged ones (the runs stay in ``results``: a rerun reuses them)."""
    import re
    import subprocess
    import sys

    rows = []
    for dataset in ("trec-dl-2019", "trec-dl-2020"):
        for reranker in ("bi_encoder", "cross_encoder"):
            row = {"dataset": dataset, "reranker": reranker}
            for dtype in ("float32", "int8"):
                name = f"{dataset}-{reranker}-{dtype}-q{query_limit or 'all'}"
                cmd = [
                    sys.executable,
                    "-m",
                    "harness.cli",
                    "run",
                    f"dataset=msmarco-passage-mini/{dataset}",
                    "retriever=run",
                    f"reranker={reranker}",
                    f"reranker.dtype={dtype}",
                    "tracking=none",
                    f"results_dir={results}",
                    "experiment_name=bench_fast",
                    f"run_name={name}",
                    "show_progress=false",
                    f"dataset.query_limit={query_limit or 'null'}",
                ]
                start = time.perf_counter()
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode:
                    raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
                row[f"{dtype}_seconds"] = time.perf_counter() - start
                metrics = json.loads((results / "bench_fast" / name / "metrics.json").read_text())
                row[f"{dtype}_ndcg@10"] = metrics["ndcg@10"]
                found = re.search(r"int8 vs fp32 on .*", done.stdout + done.stderr)
                if found:
                    row["agreement_line"] = found.group(0)
            row["ndcg_change"] = row["int8_ndcg@10"] - row["float32_ndcg@10"]
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def fast_main(args) -> None:
    import torch

    load_before = os.getloadavg()
    queries, passages = real_pairs(args.pairs)
    with tempfile.TemporaryDirectory() as tmp:
        speed = [] if args.skip_speed else fast_speed(queries, passages, args, Path(tmp))
        print(json.dumps({"speed": speed}), flush=True)  # a long quality part must not hold these back
        load_mid = os.getloadavg()
        quality = [] if args.skip_quality else fast_quality(Path(args.runs), args.query_limit)
    meta = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "args": vars(args),
        "load_average": {"before": load_before, "after_speed": load_mid, "after": os.getloadavg()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "speed": speed, "quality": quality}, indent=1))
    print(json.dumps(meta))
    for r in speed[:1]:
        print("| what | n | " + " | ".join(r["per_s"]) + " | int8 / sentence-transformers fp32 |")
        print("|---|---|" + "---|" * (len(r["per_s"]) + 1))
    for r in speed:
        rates = r["per_s"]
        print(
            f"| {r['what']} | {r['n']} | "
            + " | ".join(f"{rates.get(k, float('nan')):.1f}" for k in speed[0]["per_s"])
            + f" | {rates['harness int8'] / rates['sentence-transformers fp32']:.2f}x |"
        )
    print("| dataset | reranker | nDCG@10 fp32 | nDCG@10 int8 | change | fp32 run s | int8 run s |")
    print("|---|---|---|---|---|---|---|")
    for r in quality:
        print(
            f"| {r['dataset']} | {r['reranker']} | {r['float32_ndcg@10']:.4f} | {r['int8_ndcg@10']:.4f} | "
            f"{r['ndcg_change']:+.4f} | {r['float32_seconds']:.0f} | {r['int8_seconds']:.0f} |"
        )


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None, help="JSON results (default results/bench/rerankers[-fast].json)")
    parser.add_argument("--fast", action="store_true", help="the int8 fast path against fp32 (speed and nDCG@10)")
    parser.add_argument("--skip-quality", action="store_true", help="--fast: speed only, no nDCG@10 runs")
    parser.add_argument("--skip-speed", action="store_true", help="--fast: nDCG@10 runs only")
    parser.add_argument("--query-limit", type=int, default=0, help="--fast: first N judged queries (0: all)")
    parser.add_argument("--runs", default="results/bench/fast-runs", help="--fast: results_dir of the runs")
    args = parser.parse_args()
    args.out = args.out or f"results/bench/rerankers{'-fast' if args.fast else ''}.json"
    if args.fast:
        return fast_main(args)
    queries, passages = real_pairs(args.pairs)
    rows = [
        {**bench_bi(queries, passages, args, "cpu", "float32"), "device": "cpu", "dtype": "float32"},
        {**bench_cross(queries, passages, args, "cpu", "float32"), "device": "cpu", "dtype": "float32"},
    ]
    if torch.cuda.is_available():
        for fn in (bench_bi, bench_cross):
            rows.append(
                {
                    **fn(queries * 8, passages * 8, args, "cuda", "bfloat16"),
                    "device": "cuda",
                    "dtype": "bfloat16",
                    "gpu": torch.cuda.get_device_name(),
                }
            )
    else:
        print("no CUDA device: GPU (bf16) part skipped")
    meta = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "args": vars(args),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(json.dumps(meta))
    print(
        "| what | device | dtype | n | harness /s | sentence-transformers /s | ratio (best) | ratio (median round) "
        "| max abs diff |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['what']} | {r['device']} | {r['dtype']} | {r['n']} | {r['ours_per_s']:.1f} | "
            f"{r['theirs_per_s']:.1f} | {r['ratio_best']:.2f}x | {r['ratio_median']:.2f}x | {r['max_abs_diff']:.2e} |"
        )


if __name__ == "__main__":
    main()
