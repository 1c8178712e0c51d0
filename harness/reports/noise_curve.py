"""Noise curves: RAG rates against the noise ratio, from the run folders of a sweep.

Reads every complete run folder (``metrics.json`` + ``config.yaml``) under an
experiment folder, groups runs by what is not the ratio (dataset, generator,
noise kind, gold position, k), and writes ``curves.json`` (points and the
normalised area under each curve) and ``noise_curve.png`` (groups with a single ratio are in the JSON, not the plot).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.rag.metrics import curve_area

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


def legend_names(groups: list[str]) -> tuple[list[str], str]:
    """Short names (each group's words not shared by every group) and the shared words, for the title."""
    parts = [group.split(" | ") for group in groups]
    width = max(len(p) for p in parts)
    parts = [p + [""] * (width - len(p)) for p in parts]
    shared_words = [set.intersection(*(set(p[i].split()) for p in parts)) for i in range(width)]
    rest = [[" ".join(t for t in p[i].split() if t not in shared_words[i]) for i in range(width)] for p in parts]
    varies = [any(r[i] for r in rest) for i in range(width)]  # an empty varying part is the base (e.g. no adapter)
    names = [" | ".join((r[i] or "base") for i in range(width) if varies[i]) or "base" for r in rest]
    title = " | ".join(" ".join(t for t in parts[0][i].split() if t in shared_words[i]) for i in range(width))
    return names, title


def plot(found: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    found = {group: data for group, data in found.items() if len(data["points"]) > 1} or found  # a curve needs two ratios
    names, title = legend_names(list(found))
    fig, axes = plt.subplots(1, len(RATES), figsize=(5 * len(RATES), 4 + 0.3 * len(found)), sharey=True)
    for ax, metric in zip(axes, RATES):
        for data, name in zip(found.values(), names):
            xs = [p["ratio"] for p in data["points"]]
            ax.plot(xs, [p[metric] for p in data["points"]], marker="o", label=name)
        ax.set_title(metric.removeprefix("rag_"))
        ax.set_xlabel("noise ratio rho")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of questions")
    areas = [", ".join(f"{m.removeprefix('rag_')} {data['area'][m]:.3f}" for m in RATES) for data in found.values()]
    handles = axes[0].get_lines()
    fig.legend(handles, [f"{n}  (areas: {a})" for n, a in zip(names, areas)], loc="lower center", fontsize=8,
               ncol=1, frameon=False)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.055 * len(found), 1, 1))
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
    from harness.rag.groundedness import crosstab

    rows = [json.loads(line) for path in sorted(Path(folder).glob("**/answers.jsonl"))
            for line in path.read_text().splitlines() if line.strip()]
    return crosstab(rows)
