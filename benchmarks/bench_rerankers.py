"""Throughput of the harness's bi-encoder and cross-encoder against sentence-transformers.

Same weights (the packaged all-MiniLM-L6-v2; for the cross-encoder a one-score
sequence-classification model built from that backbone with a seeded head and
saved to a temporary folder), same inputs (real passages of the official DL19
BM25 top-100), same machine, same batch size and max length. Ours and theirs
alternate, repeated, the best time of each kept (the least disturbed by other load).
On CUDA the same runs repeat in bf16, plus the encoder's tokens/s.

    pip install -e '.[bench]'
    python benchmarks/bench_rerankers.py --pairs 256 --repeats 3 --out results/bench/rerankers.json
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
    diff = (torch.nn.functional.normalize(ours.encode(passages), dim=-1) - theirs.encode(
        passages, batch_size=args.batch_size, convert_to_tensor=True).float().cpu()).abs().max().item()
    tokens = sum(min(len(x), 256) for x in ours.tokenizer(passages)["input_ids"])
    return {"what": "bi_encoder passages/s", "n": len(passages), "ours_per_s": len(passages) / t_ours,
            "theirs_per_s": len(passages) / t_theirs, "ratio_best": t_theirs / t_ours,
            "ratio_median": ratio, "max_abs_diff": diff,
            "ours_tokens_per_s": tokens / t_ours}


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
    return {"what": "cross_encoder pairs/s", "n": len(pairs), "ours_per_s": len(pairs) / t_ours,
            "theirs_per_s": len(pairs) / t_theirs, "ratio_best": t_theirs / t_ours,
            "ratio_median": ratio, "max_abs_diff": diff}


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="results/bench/rerankers.json")
    args = parser.parse_args()
    queries, passages = real_pairs(args.pairs)
    rows = [{**bench_bi(queries, passages, args, "cpu", "float32"), "device": "cpu", "dtype": "float32"},
            {**bench_cross(queries, passages, args, "cpu", "float32"), "device": "cpu", "dtype": "float32"}]
    if torch.cuda.is_available():
        for fn in (bench_bi, bench_cross):
            rows.append({**fn(queries * 8, passages * 8, args, "cuda", "bfloat16"), "device": "cuda",
                         "dtype": "bfloat16", "gpu": torch.cuda.get_device_name()})
    else:
        print("no CUDA device: GPU (bf16) part skipped")
    meta = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": platform.platform(),
            "cpu_threads": torch.get_num_threads(), "torch": torch.__version__, "args": vars(args)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(json.dumps(meta))
    print("| what | device | dtype | n | harness /s | sentence-transformers /s | ratio (best) | ratio (median round) "
          "| max abs diff |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['what']} | {r['device']} | {r['dtype']} | {r['n']} | {r['ours_per_s']:.1f} | "
              f"{r['theirs_per_s']:.1f} | {r['ratio_best']:.2f}x | {r['ratio_median']:.2f}x | {r['max_abs_diff']:.2e} |")


if __name__ == "__main__":
    main()
