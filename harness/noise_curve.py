"""Noise curves: RAG rates against the noise ratio, from the run folders of a sweep.

Reads every complete run folder (``metrics.json`` + ``config.yaml``) under an
experiment folder, groups runs by what is not the ratio (dataset, generator,
noise kind, gold position, k), and writes ``curves.json`` (points and the
normalised area under each curve) and ``noise_curve.png``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.rag_metrics import curve_area

logger = logging.getLogger(__name__)
RATES = ("rag_accuracy", "rag_hallucination", "rag_abstention")
GROUNDING = ("rag_grounded", "rag_noise_supported", "rag_unsupported")


def collect(folder: Path) -> list[dict[str, Any]]:
    """One row per complete RAG run folder under ``folder``."""
    import yaml

    rows = []
    for metrics_file in sorted(Path(folder).glob("**/metrics.json")):
        config = yaml.safe_load((metrics_file.parent / "config.yaml").read_text())
        metrics = json.loads(metrics_file.read_text())
        noise = config.get("noise") or {}
        if "rag_accuracy" not in metrics or "ratio" not in noise:
            continue
        generator = (config["generator"].get("model") or "SmolLM2-135M-Instruct (packaged GGUF)") + trained_label(config)
        rows.append({"group": f"{config['dataset']['id']} | {generator} | noise={noise['name']} "
                              f"gold={noise.get('gold_position')} k={noise.get('k')}",
                     "ratio": float(noise["ratio"]), "n": config["dataset"].get("query_limit"),
                     "run": metrics_file.parent.name, **{m: metrics[m] for m in RATES + GROUNDING if m in metrics}})
    if not rows:
        raise DataError(f"no RAG run folders with a noise ratio under {folder}")
    return rows


def trained_label(config: dict) -> str:
    """' + lora noise-trained' for a generator trained (or loaded) with a PEFT adapter, else ''."""
    train, peft = config.get("train") or {}, (config.get("peft") or {}).get("name", "peft")
    if train.get("part") == "generator":
        return f" + {peft} noise-trained ({train.get('noise', 'random')} noise, {train.get('dataset')})"
    if config.get("adapter") and config.get("generator"):
        return f" + {peft} adapter {config['adapter']}"
    return ""


def curves(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per group: the points sorted by ratio, and each rate's area (mean level over the ratio range)."""
    out: dict[str, Any] = {}
    for row in rows:
        out.setdefault(row["group"], {"points": []})["points"].append(row)
    for group in out.values():
        points = sorted(group["points"], key=lambda r: r["ratio"])
        group["points"] = points
        group["area"] = {m: curve_area([p["ratio"] for p in points], [p[m] for p in points]) for m in RATES}
    return out


def plot(found: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [group.split(" | ") for group in found]
    varying = [i for i in range(len(parts[0])) if len({tuple(p[i:i + 1]) for p in parts}) > 1] or [len(parts[0]) - 1]
    shared = [part for i, part in enumerate(parts[0]) if i not in varying]
    fig, axes = plt.subplots(1, len(RATES), figsize=(5 * len(RATES), 4), sharey=True)
    for ax, metric in zip(axes, RATES):
        for (group, data), split in zip(found.items(), parts):
            xs = [p["ratio"] for p in data["points"]]
            name = " | ".join(split[i] for i in varying if i < len(split))
            ax.plot(xs, [p[metric] for p in data["points"]], marker="o",
                    label=f"{name} (area {data['area'][metric]:.3f})")
        ax.set_title(metric.removeprefix("rag_"))
        ax.set_xlabel("noise ratio rho")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("share of questions")
    fig.suptitle(" | ".join(shared), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summarise(folder: Path, out_dir: Path | None = None) -> dict[str, Any]:
    """Write ``curves.json`` and ``noise_curve.png`` into ``out_dir`` (default: ``folder``)."""
    from harness.outputs import write_json

    out_dir = Path(out_dir or folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    found = curves(collect(Path(folder)))
    write_json(out_dir / "curves.json", found)
    write_json(out_dir / "groundedness_validation.json", validation(Path(folder)))
    plot(found, out_dir / "noise_curve.png")
    logger.info("noise curves of %d group(s) written to %s", len(found), out_dir)
    return found


def validation(folder: Path) -> dict[str, dict[str, int]]:
    """Answer-based verdict x reference-free groundedness label, over every answer of the sweep."""
    from harness.groundedness import crosstab

    rows = [json.loads(line) for path in sorted(Path(folder).glob("**/answers.jsonl"))
            for line in path.read_text().splitlines() if line.strip()]
    return crosstab(rows)
