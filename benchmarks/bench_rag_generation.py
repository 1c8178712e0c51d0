"""Generation throughput: the harness's ``generator=hf`` vs a plain transformers ``generate`` loop.

Same model (the packaged SmolLM2-135M-Instruct, dequantized once into the
stage cache), same chat-formatted prompts (HaluEval-QA test questions with
k passages of random noise), same greedy decoding and token limit. Tokens are
counted the same way on both sides (answer re-tokenized), so the ratio is fair.

    python benchmarks/bench_rag_generation.py --questions 8 --k 5 --ratio 0.8
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path


def contexts(n: int, k: int, ratio: float, cache):
    from harness.data import datasets
    from harness.components import Context
    from harness.plugin_manager import get_plugin_manager
    from harness_plugins.noise._common import NoiseConfig
    from harness_plugins.noise.random import RandomNoise

    ds = datasets.load("halueval-qa/test", get_plugin_manager(), datasets.default_data_root())
    queries = list(ds.queries_iter())[:n]
    noise = RandomNoise(NoiseConfig(k=k, ratio=ratio), Context(cache=cache))
    noise.prepare([d.doc_id for d in ds.docs_iter()])
    store = ds.docs_store()
    ids = [noise.inject(q, q.gold_doc_ids, []) for q in queries]
    return [q.text for q in queries], [[store.get(d).text for d in row] for row in ids]


def plain_loop(model, tokenizer, prompts, max_new_tokens):
    """What a user writes without the harness: one prompt at a time."""
    import torch

    answers = []
    with torch.inference_mode():
        for prompt in prompts:
            inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
            out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
            answers.append(tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True).strip())
    return answers


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from harness.cache import StageCache
    from harness.components import Context
    from harness_plugins.generator.hf import HFGenerator, HFGeneratorConfig

    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--ratio", type=float, default=0.8)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads for both sides")
    ap.add_argument("--cache", default="results/cache")
    args = ap.parse_args()
    cache = StageCache(Path(args.cache))
    questions, passages = contexts(args.questions, args.k, args.ratio, cache)
    gen = HFGenerator(
        HFGeneratorConfig(batch_size=args.batch_size, max_new_tokens=args.max_new_tokens, cpu_threads=args.threads),
        Context(cache=cache, show_progress=False),
    )
    prompts = gen.prompts(questions, passages)  # loads the model
    gen.generate(questions[:1], passages[:1])  # warm-up, both sides share it
    count = lambda answers: sum(len(gen.tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers)  # noqa
    started = time.perf_counter()
    ours = gen.generate(questions, passages)
    t_ours = time.perf_counter() - started
    started = time.perf_counter()
    plain = plain_loop(gen.model, gen.tokenizer, prompts, args.max_new_tokens)
    t_plain = time.perf_counter() - started
    tps_ours, tps_plain = count(ours) / t_ours, count(plain) / t_plain
    same = sum(a == b for a, b in zip(ours, plain))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
        f"{torch.__version__}, {torch.get_num_threads()} torch threads, device {gen.model.device}, dtype {gen.model.dtype}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{args.questions} prompts, k={args.k}, ratio={args.ratio}, max_new_tokens={args.max_new_tokens}, "
        f"harness batch_size={args.batch_size}"
    )
    print(f"harness generator : {count(ours):5d} tokens in {t_ours:7.2f} s = {tps_ours:7.2f} tokens/s")
    print(f"plain generate loop: {count(plain):5d} tokens in {t_plain:7.2f} s = {tps_plain:7.2f} tokens/s")
    print(f"ratio harness/plain: {tps_ours / tps_plain:.2f}x; identical answers: {same}/{len(ours)}")


if __name__ == "__main__":
    main()
