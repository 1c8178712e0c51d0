"""A trained run's loss curves as a plot: per-step training loss, its running mean, validation loss.

Reads the ``training`` block of a run folder's ``run_info.json`` (written by every run with
``train=``), so any training can be drawn after the fact:

    python scripts/training_curve.py results/<experiment>/<run> --out docs/img/<name>.png [--title ...]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path


def running_mean(values: list[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--title", default=None)
    parser.add_argument("--window", type=int, default=50, help="steps in the running mean")
    parser.add_argument("--group-size", type=int, default=None, help="candidates per group: draws ln(size), chance level")
    args = parser.parse_args(argv)
    info_path = args.run_dir / "run_info.json"
    training = json.loads(info_path.read_text()).get("training")
    if not training or not training.get("losses"):
        parser.error(f"{info_path}: no training curves (was the run trained, with train=?)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, losses = zip(*training["losses"])
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(steps, losses, alpha=0.25, lw=0.8, label="training loss (per step)")
    ax.plot(steps, running_mean(list(losses), args.window), lw=1.6, label=f"training loss (mean of the last {args.window} steps)")
    if training.get("validation"):
        vs, vl = zip(*training["validation"])
        ax.plot(vs, vl, marker="o", lw=1.6, label="validation loss")
    if args.group_size:
        ax.axhline(math.log(args.group_size), ls=":", c="grey", lw=1, label=f"chance: ln {args.group_size}")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_title(args.title or args.run_dir.name, fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"plot: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
