"""Inference latency of PEFT methods on MiniLM-L6: base vs LoRA unmerged vs merged vs adapter.

    python benchmarks/bench_peft.py [--batch 32 --length 128 --repeats 10]

Random weights of MiniLM-L6's architecture (hidden 384, 6 layers): latency
does not depend on the values. Ratios are against the base model measured in
the same run; merged LoRA should be ~1.00x (no extra work), unmerged LoRA and
adapters pay for their extra branches. On CUDA the same in bf16.
"""

from __future__ import annotations

import argparse
import copy
import logging
import statistics
import time
from pathlib import Path

import torch
from transformers import BertConfig, BertModel

from common import machine
from harness.cache import StageCache
from harness.components import Context
from harness.training.peft_artifacts import count_parameters
from harness.plugin_manager import get_plugin_manager
from harness.registry import ComponentRegistry


def latency_ms(model, inputs, repeats: int, device: str) -> float:
    times = []
    with torch.inference_mode():
        for i in range(repeats + 2):
            if device == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
            model(**inputs)
            if device == "cuda":
                torch.cuda.synchronize()
            if i >= 2:  # two warm-up calls
                times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "benchmarks-peft.md"))
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    torch.manual_seed(0)
    base = BertModel(BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)).eval()
    registry = ComponentRegistry(get_plugin_manager())
    ctx = Context(cache=StageCache(Path("/tmp/unused")))

    def variant(name, **config):
        method = registry.create("peft", {"name": name, **config}, ctx)
        model = method.apply(copy.deepcopy(base))
        with torch.no_grad():  # non-zero updates, as after training
            for pname, p in model.named_parameters():
                if "lora_B" in pname or pname.endswith("adapter.2.weight"):
                    p.normal_(0, 0.02)
        return method, model

    lora_method, lora = variant("lora", r=8, target_modules="qv")
    trainable = count_parameters(lora)[0]
    merged = lora_method.merge(copy.deepcopy(lora))
    _, adapter = variant("adapter", reduction_factor=16)
    models = {
        "base (frozen MiniLM-L6)": (base, 0),
        "LoRA r=8 q,v unmerged": (lora, trainable),
        "LoRA r=8 q,v merged": (merged, 0),
        "bottleneck adapter (pfeiffer, /16)": (adapter, count_parameters(adapter)[0]),
    }
    inputs = {
        "input_ids": torch.randint(1000, 30000, (args.batch, args.length), device=device),
        "attention_mask": torch.ones(args.batch, args.length, dtype=torch.long, device=device),
    }
    rows = []
    for name, (model, extra) in models.items():
        model.to(device=device, dtype=dtype)
        rows.append((name, extra, latency_ms(model, inputs, args.repeats, device)))
    base_ms = rows[0][2]
    table = ["| model | extra parameters at inference | latency (ms/batch) | ratio vs base |", "| --- | ---: | ---: | ---: |"]
    table += [f"| {n} | {p:,} | {ms:.1f} | {ms / base_ms:.2f}x |" for n, p, ms in rows]
    report = "\n".join(
        [
            "# Benchmark: PEFT inference latency",
            "",
            f"Measured on: {machine()}; device {device} ({dtype}); torch {torch.__version__}.",
            f"Batch {args.batch} x {args.length} tokens, median of {args.repeats} calls after 2 warm-ups; "
            "random weights of MiniLM-L6's architecture.",
            f"Command: `python benchmarks/bench_peft.py --batch {args.batch} --length {args.length} --repeats {args.repeats}`",
            "",
            *table,
            "",
        ]
    )
    Path(args.out).write_text(report)
    print(report)


if __name__ == "__main__":
    main()
