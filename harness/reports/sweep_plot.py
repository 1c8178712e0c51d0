"""``harness plot-sweep``: a metric against a swept parameter, one line per series, from MLflow runs.

Draws the seed's PEFT plots (quality vs LoRA rank; quality per placement) and
any other sweep's: ``--x peft.r --series peft.target_modules --metric ndcg@10``.
The points are written beside the plot as JSON, so the figure can be redrawn.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.errors import ConfigError


def mlflow_tracker() -> Any:
    """The registered ``tracking=mlflow`` class: its metric names and default store (the core imports no plugin)."""
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry

    return ComponentRegistry(get_plugin_manager()).get("tracking", "mlflow").cls


def sweep_points(tracking_uri: str, experiment: str, x: str, metric: str, series: str | None) -> dict:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        raise ConfigError(f"no MLflow experiment '{experiment}' at {tracking_uri}")
    name = mlflow_tracker().metric_name(metric)
    points: dict[str, list[tuple[float | str, float]]] = defaultdict(list)
    for run in client.search_runs([found.experiment_id], "attributes.status = 'FINISHED'"):
        if x not in run.data.params or name not in run.data.metrics:
            continue
        key = run.data.params.get(series, "?") if series else metric
        value: float | str = run.data.params[x]
        try:
            value = float(value)
        except ValueError:
            pass
        points[key].append((value, run.data.metrics[name]))
    if not points:
        raise ConfigError(f"experiment '{experiment}' has no FINISHED run with param '{x}' and metric '{metric}'")
    return {k: sorted(v, key=lambda p: (isinstance(p[0], str), p[0])) for k, v in points.items()}


def plot(points: dict, x: str, metric: str, title: str, out: Path, log_x: bool) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, values in sorted(points.items(), key=lambda item: series_order(item[0])):
        xs = [p[0] for p in values]
        ax.plot(
            xs if all(isinstance(v, float) for v in xs) else [str(v) for v in xs], [p[1] for p in values], marker="o", label=label
        )
    if log_x:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    out.with_suffix(".json").write_text(json.dumps({"x": x, "metric": metric, "points": points}, indent=1))
    return out


def series_order(label: str) -> tuple:
    """Numeric labels (ranks) in numeric order, then the rest alphabetically."""
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def default_plot_path(results_dir: Path, experiment: str, metric: str, x: str) -> Path:
    """``results/<experiment>/<metric>_vs_<x>.png``, refused where a name would lead outside ``results_dir``."""
    from harness.outputs import safe_name
    from harness.runs.paths import experiment_folder, inside

    folder = experiment_folder(results_dir, experiment, key="--experiment")
    return inside(folder / f"{safe_name(metric.replace('@', '_at_') + '_vs_' + x)}.png", [results_dir], "write the sweep plot")


def run(args) -> int:
    results_dir = Path(args.results_dir)
    uri = args.tracking_uri or mlflow_tracker().default_uri(results_dir)
    out = Path(args.out) if args.out else default_plot_path(results_dir, args.experiment, args.metric, args.x)
    points = sweep_points(uri, args.experiment, args.x, args.metric, args.series)
    plot(points, args.x, args.metric, f"{args.experiment}: {args.metric} vs {args.x}", out, args.log_x)
    for label, values in sorted(points.items(), key=lambda item: series_order(item[0])):
        print(f"{label}: " + ", ".join(f"{x}={y:.4f}" for x, y in values))
    print(f"plot: {out}")
    return 0
