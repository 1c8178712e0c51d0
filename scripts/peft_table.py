"""The PEFT acceptance table and its plot, from the run folders of ``experiment_name=peft_table``.

Run names follow ``<reranker>-<method>-<train>-dl<test year>`` (trained),
``<reranker>-zeroshot-dl<yy>`` and ``bm25-dl<year>``, as the commands in
docs/peft.md write them. Prints a Markdown table (nDCG@10 and MRR@10 in both
directions, trainable parameters, seconds per step) and saves a grouped bar
chart. Missing runs show as '-'.

    python scripts/peft_table.py [results/peft_table] [--plot docs/img/peft_table.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RERANKERS = ("cross_encoder", "bi_encoder", "late_interaction")
METHODS = ("zero-shot", "lora", "adapter", "full")
DIRECTIONS = (("dl19", "2020"), ("dl20", "2019"))  # (trained on, tested on)


def load(folder: Path, name: str) -> dict | None:
    path = folder / name / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else None


def result(folder: Path, reranker: str, method: str, train: str, year: str) -> dict | None:
    if method == "zero-shot":
        return load(folder, f"{reranker}-zeroshot-dl{year[2:]}")
    return load(folder, f"{reranker}-{method}-{train}-dl{year}")


def table(folder: Path) -> tuple[str, dict]:
    def cell(m: dict | None, key: str, fmt: str = ".4f") -> str:
        return "-" if not m or key not in m else format(m[key], fmt)

    lines = [
        "| reranker | method | trainable params (share) | DL19 -> DL20 nDCG@10 | MRR@10 | s/step "
        "| DL20 -> DL19 nDCG@10 | MRR@10 | s/step |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    bm25 = [load(folder, f"bm25-dl{year}") for _, year in DIRECTIONS]
    lines.append(
        f"| BM25 top-100 | - | - | {cell(bm25[0], 'ndcg@10')} | {cell(bm25[0], 'mrr@10')} | "
        f"| {cell(bm25[1], 'ndcg@10')} | {cell(bm25[1], 'mrr@10')} | |"
    )
    bars: dict = {"BM25": [m["ndcg@10"] if m else None for m in bm25]}
    for reranker in RERANKERS:
        for method in METHODS:
            runs = [result(folder, reranker, method, train, year) for train, year in DIRECTIONS]
            some = next((m for m in runs if m and "trainable_parameters" in m), None)
            params = (
                f"{int(some['trainable_parameters']):,} ({100 * some['trainable_share']:.2f}%)"
                if some
                else "0"
                if method == "zero-shot"
                else "-"
            )
            lines.append(
                f"| {reranker} | {method} | {params} | "
                + " | ".join(f"{cell(m, 'ndcg@10')} | {cell(m, 'mrr@10')} | {cell(m, 'train_step_seconds', '.1f')}" for m in runs)
                + " |"
            )
            bars[f"{reranker} {method}"] = [m["ndcg@10"] if m else None for m in runs]
    return "\n".join(lines), bars


def plot(bars: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    colors = {"zero-shot": "#999999", "lora": "#1f77b4", "adapter": "#2ca02c", "full": "#d62728"}
    for ax, (index, (train, year)) in zip(axes, enumerate(DIRECTIONS)):
        for group, reranker in enumerate(RERANKERS):
            for offset, method in enumerate(METHODS):
                value = bars[f"{reranker} {method}"][index]
                if value is not None:
                    ax.bar(group + (offset - 1.5) * 0.2, value, 0.2, color=colors[method], label=method if group == 0 else None)
        if bars["BM25"][index] is not None:
            ax.axhline(bars["BM25"][index], color="black", linestyle="--", linewidth=1, label="BM25 top-100")
        ax.set_xticks(range(len(RERANKERS)), [r.replace("_", "-") for r in RERANKERS])
        ax.set_title(f"trained on {train.upper()}, tested on DL{year[2:]}")
        ax.set_ylim(0.3, 0.7)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("nDCG@10 (rerank BM25 top-100)")
    labelled = {label: handle for ax in axes for handle, label in zip(*ax.get_legend_handles_labels())}
    if labelled:
        fig.legend(labelled.values(), labelled.keys(), fontsize=8, loc="lower center", ncol=len(labelled), frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="results/peft_table")
    parser.add_argument("--plot", default=None, help="PNG path for the bar chart")
    args = parser.parse_args()
    text, bars = table(Path(args.folder))
    print(text)
    if args.plot:
        plot(bars, Path(args.plot))
        print(f"written: {args.plot}")


if __name__ == "__main__":
    main()
