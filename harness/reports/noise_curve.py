"""Noise curves: RAG rates against the noise ratio, from the run folders of a sweep.

Reads every complete run folder (``metrics.json`` + ``config.yaml``) under an
experiment folder, groups runs by what is not the ratio (dataset, generator,
noise kind, gold position, k), and writes ``curves.json`` (points and the
normalised area under each curve) and ``noise_curve.png`` (groups with a single ratio are in the JSON, not the plot).

Each rate and each area carries a 95% percentile-bootstrap interval over questions (the run's
``answers.jsonl``), and curves that differ only in their generator (base vs noise-trained) get their
paired difference with its interval: the same resampled questions on both sides and at every ratio,
so that the question-to-question variance that both curves share cancels out.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import DataError
from harness.rag.metrics import curve_area

logger = logging.getLogger(__name__)
RATES = ("rag_accuracy", "rag_hallucination", "rag_abstention")
GROUNDING = ("rag_grounded", "rag_noise_supported", "rag_unsupported")
VERDICT_OF = {"rag_accuracy": "correct", "rag_hallucination": "hallucinated", "rag_abstention": "abstain"}
RESAMPLES = 10_000  # bootstrap resamples of the questions (percentile intervals, seed 0)


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
        rows.append(
            {
                "group": f"{config['dataset']['id']} | {generator} | noise={noise['name']} "
                f"gold={noise.get('gold_position')} k={noise.get('k')}",
                "ratio": float(noise["ratio"]),
                "n": config["dataset"].get("query_limit"),
                "run": metrics_file.parent.name,
                **{m: metrics[m] for m in RATES + GROUNDING if m in metrics},
                "verdicts": verdicts(metrics_file.parent),
            }
        )
    if not rows:
        raise DataError(f"no RAG run folders with a noise ratio under {folder}")
    return rows


def verdicts(run_dir: Path) -> dict[str, str]:
    """Each question's verdict (correct / abstain / hallucinated) from the run's ``answers.jsonl``."""
    path = run_dir / "answers.jsonl"
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {row["query_id"]: row["verdict"] for row in rows if "verdict" in row}


def trained_label(config: dict) -> str:
    """' + lora noise-trained' for a generator trained (or loaded) with a PEFT adapter, else ''."""
    train, peft = config.get("train") or {}, (config.get("peft") or {}).get("name", "peft")
    if train.get("part") == "generator":
        return f" + {peft} noise-trained ({train.get('noise', 'random')} noise, {train.get('dataset')})"
    saved = config.get("load_adapter") or config.get("adapter")  # adapter=: the option's earlier name
    if saved and config.get("generator"):
        return f" + {peft} adapter {saved}"
    return ""


def _grouped(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["group"], []).append(row)
    return {group: sorted(points, key=lambda r: r["ratio"]) for group, points in out.items()}


def curves(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per group: the points sorted by ratio, each rate's area (mean level over the ratio range), and
    their 95% bootstrap intervals over questions (``ci95``, ``area_ci95``) where the answers are there."""
    out: dict[str, Any] = {}
    for name, rows_of_group in _grouped(rows).items():
        points = [{k: v for k, v in row.items() if k != "verdicts"} for row in rows_of_group]
        group: dict[str, Any] = {
            "points": points,
            "area": {m: curve_area([p["ratio"] for p in points], [p[m] for p in points]) for m in RATES},
        }
        answers = [row.get("verdicts", {}) for row in rows_of_group]
        questions = _shared_questions(answers)
        if questions:
            boot = _bootstrap(points, answers, questions)
            group["questions"] = len(questions)
            for point, means in zip(points, boot["points"]):
                point["ci95"] = {m: _interval(means[m]) for m in RATES}
            group["area_ci95"] = {m: _interval(boot["area"][m]) for m in RATES}
        out[name] = group
    return out


def differences(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Paired differences (other - base, with 95% intervals) between curves that differ only in the
    generator: a noise-trained generator against its base."""
    grouped = _grouped(rows)
    found = [_difference(grouped, base, other) for base, other in paired_groups(list(grouped))]
    return [d for d in found if d]


def paired_groups(groups: list[str]) -> list[tuple[str, str]]:
    """(base, other) for curves that differ only in the generator (the group's second field); the base
    is the generator without an adapter (no " + ")."""
    pairs = []
    for other in groups:
        fields = other.split(" | ")
        if len(fields) < 2 or " + " not in fields[1]:
            continue
        for base in groups:
            base_fields = base.split(" | ")
            if (
                len(base_fields) == len(fields)
                and " + " not in base_fields[1]
                and base_fields[:1] + base_fields[2:] == fields[:1] + fields[2:]
            ):
                pairs.append((base, other))
    return pairs


def _shared_questions(answers: list[dict[str, str]]) -> list[str]:
    if not answers or not all(answers):
        return []
    return sorted(set.intersection(*(set(a) for a in answers)))


def _area_weights(ratios: list[float]) -> np.ndarray:
    """Weights w with sum(w * y) == curve_area(ratios, y): the trapezoid rule is linear in y."""
    return np.array([curve_area(ratios, [float(i == j) for j in range(len(ratios))]) for i in range(len(ratios))])


def _resampled_means(answers: list[dict[str, str]], questions: list[str], idx: np.ndarray) -> list[dict]:
    """Per point and rate, the rate's mean over each resample of the questions (shape: resamples)."""
    out = []
    for verdict_of in answers:
        out.append(
            {m: (np.array([verdict_of[q] == VERDICT_OF[m] for q in questions], dtype=float)[idx]).mean(axis=1) for m in RATES}
        )
    return out


def _indices(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, n, size=(RESAMPLES, n))


def _bootstrap(points, answers, questions) -> dict[str, Any]:
    means = _resampled_means(answers, questions, _indices(len(questions)))
    weights = _area_weights([p["ratio"] for p in points])
    return {"points": means, "area": {m: sum(w * pm[m] for w, pm in zip(weights, means)) for m in RATES}}


def _interval(values: np.ndarray) -> list[float]:
    low, high = np.percentile(values, [2.5, 97.5])
    return [float(low), float(high)]


def _difference(grouped, base: str, other: str) -> dict[str, Any] | None:
    """``other - base`` at each shared ratio and over the area, over the questions both answered."""
    base_at = {p["ratio"]: p for p in grouped[base]}
    shared = [(base_at[p["ratio"]], p) for p in grouped[other] if p["ratio"] in base_at]
    base_answers = [b.get("verdicts", {}) for b, _ in shared]
    other_answers = [o.get("verdicts", {}) for _, o in shared]
    questions = _shared_questions(base_answers + other_answers)
    if not questions:
        return None
    everyone = np.arange(len(questions))[None, :]  # the observed sample: one "resample" holding each question once
    idx = _indices(len(questions))  # one draw for both sides: the pairing
    diffs = [
        {m: o[m] - b[m] for m in RATES}
        for b, o in zip(_resampled_means(base_answers, questions, idx), _resampled_means(other_answers, questions, idx))
    ]
    observed = [
        {m: float(o[m][0] - b[m][0]) for m in RATES}
        for b, o in zip(_resampled_means(base_answers, questions, everyone), _resampled_means(other_answers, questions, everyone))
    ]
    ratios = [o["ratio"] for _, o in shared]
    points = [
        {"ratio": ratio, **obs, "ci95": {m: _interval(d[m]) for m in RATES}} for ratio, obs, d in zip(ratios, observed, diffs)
    ]
    result: dict[str, Any] = {"base": base, "other": other, "questions": len(questions), "points": points}
    if len(ratios) > 1:
        w = _area_weights(ratios)
        result["area"] = {m: float(sum(wk * p[m] for wk, p in zip(w, points))) for m in RATES}
        result["area_ci95"] = {m: _interval(sum(wk * d[m] for wk, d in zip(w, diffs))) for m in RATES}
    return result


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
            (line,) = ax.plot(xs, [p[metric] for p in data["points"]], marker="o", label=name)
            if all("ci95" in p for p in data["points"]):  # the 95% bootstrap band over questions
                ax.fill_between(
                    xs,
                    [p["ci95"][metric][0] for p in data["points"]],
                    [p["ci95"][metric][1] for p in data["points"]],
                    color=line.get_color(),
                    alpha=0.15,
                    linewidth=0,
                )
        ax.set_title(metric.removeprefix("rag_"))
        ax.set_xlabel("noise ratio rho")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of questions")
    areas = [", ".join(f"{m.removeprefix('rag_')} {data['area'][m]:.3f}" for m in RATES) for data in found.values()]
    handles = axes[0].get_lines()
    fig.legend(
        handles, [f"{n}  (areas: {a})" for n, a in zip(names, areas)], loc="lower center", fontsize=8, ncol=1, frameon=False
    )
    bands = any("area_ci95" in data for data in found.values())
    fig.suptitle(title + ("\nbands: 95% bootstrap intervals over questions" if bands else ""), fontsize=9)
    fig.tight_layout(rect=(0, 0.055 * len(found), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_differences(found: list[dict[str, Any]], path: Path) -> Path:
    """Each paired difference (other - base) per rate against the ratio, with its 95% interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(RATES), figsize=(5 * len(RATES), 4 + 0.3 * len(found)), sharey=True)
    names = [f"{d['other'].split(' | ')[1]}  minus  {d['base'].split(' | ')[1]}" for d in found]
    title = " | ".join(part for i, part in enumerate(found[0]["other"].split(" | ")) if i != 1)
    handles = []
    for ax, metric in zip(axes, RATES):
        for d, name in zip(found, names):
            xs = [p["ratio"] for p in d["points"]]
            ys = [p[metric] for p in d["points"]]
            low = [y - p["ci95"][metric][0] for y, p in zip(ys, d["points"])]
            high = [p["ci95"][metric][1] - y for y, p in zip(ys, d["points"])]
            bars = ax.errorbar(xs, ys, yerr=[low, high], marker="o", capsize=3, label=name)
            if ax is axes[0]:
                handles.append(bars)
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_title(f"{metric.removeprefix('rag_')}: trained - base")
        ax.set_xlabel("noise ratio rho")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("difference in share of questions (paired, 95% CI)")
    fig.legend(handles, names, loc="lower center", fontsize=8, frameon=False)
    fig.suptitle(f"{title}\nn = {found[0]['questions']} questions, paired bootstrap ({RESAMPLES:,} resamples)", fontsize=9)
    fig.tight_layout(rect=(0, 0.06 * len(found), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summarise(folder: Path, out_dir: Path | None = None) -> dict[str, Any]:
    """Write ``curves.json``, ``differences.json``, ``noise_curve.png`` (and ``noise_curve_difference.png``
    where a base and a trained generator share a sweep) into ``out_dir`` (default: ``folder``)."""
    from harness.outputs import write_json

    out_dir = Path(out_dir or folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = collect(Path(folder))
    found = curves(rows)
    write_json(out_dir / "curves.json", found)
    paired = differences(rows)
    write_json(out_dir / "differences.json", paired)
    if paired:
        plot_differences(paired, out_dir / "noise_curve_difference.png")
    write_json(out_dir / "groundedness_validation.json", validation(Path(folder)))
    plot(found, out_dir / "noise_curve.png")
    logger.info("noise curves of %d group(s) written to %s", len(found), out_dir)
    return found


def validation(folder: Path) -> dict[str, dict[str, int]]:
    """Answer-based verdict x reference-free groundedness label, over every answer of the sweep."""
    from harness.rag.groundedness import crosstab

    rows = [
        json.loads(line)
        for path in sorted(Path(folder).glob("**/answers.jsonl"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    return crosstab(rows)
