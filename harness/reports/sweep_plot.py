"""``harness plot-sweep``: a metric against a swept parameter, one line per series, from MLflow runs.

Draws the seed's PEFT plots (quality vs LoRA rank; quality per placement) and
any other sweep's: ``--x peft.r --series peft.target_modules --metric ndcg@10``.
The points are written beside the plot as JSON, so the figure can be redrawn.

Runs at the same point that differ only in a seed (``seed``, ``train.seed``...) are
replicates: the point is their mean with a 95% Student-t interval over the seeds,
drawn as an error bar. Runs at the same point that differ in anything else are
refused, naming the parameter: averaging two settings would draw a figure of neither.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

from harness.errors import ConfigError

# Params that name or place a run without changing its figures: never a reason to refuse replicates.
# Narrower than the leaderboard's NOT_DISTINGUISHING (labels): `device` changes figures (dtype=auto).
NOT_A_SETTING = {"run_name", "results_dir", "cache_dir", "use_cache", "resume", "show_progress", "data_root"}


class Point(NamedTuple):
    """One plotted point: the mean over its replicate runs (seeds) and their 95% t-interval (None for one run)."""

    x: float | str
    mean: float
    low: float | None
    high: float | None
    runs: int


def is_replicate_param(name: str) -> bool:
    """``seed``, ``train.seed``...: what varies between replicates of one setting."""
    return name.rsplit(".", 1)[-1] == "seed"


def summarise(x: float | str, values: list[float]) -> Point:
    import statistics

    mean = statistics.fmean(values)
    if len(values) < 2:
        return Point(x, mean, None, None, len(values))
    from scipy.stats import t

    half = float(t.ppf(0.975, len(values) - 1)) * statistics.stdev(values) / len(values) ** 0.5
    return Point(x, mean, mean - half, mean + half, len(values))


def mlflow_tracker() -> Any:
    """The registered ``tracking=mlflow`` class: its metric names and default store (the core imports no plugin)."""
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry

    return ComponentRegistry(get_plugin_manager()).get("tracking", "mlflow").cls


def sweep_points(tracking_uri: str, experiment: str, x: str, metric: str, series: str | None) -> dict[str, list[Point]]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        raise ConfigError(f"no MLflow experiment '{experiment}' at {tracking_uri}")
    name = mlflow_tracker().metric_name(metric)
    # (series, x) -> the runs there: their metric and their settings (params less x, series, seeds, names)
    groups: dict[tuple[str, float | str], list[tuple[float, dict[str, str], str]]] = defaultdict(list)
    for run in client.search_runs([found.experiment_id], "attributes.status = 'FINISHED'"):
        params = run.data.params
        if x not in params or name not in run.data.metrics:
            continue
        key = params.get(series, "?") if series else metric
        value: float | str = params[x]
        try:
            value = float(value)
        except ValueError:
            pass
        setting = {
            k: v for k, v in params.items() if k not in (x, series) and k not in NOT_A_SETTING and not is_replicate_param(k)
        }
        label = str(params.get("run_name") or getattr(getattr(run, "info", None), "run_id", "?"))
        groups[(key, value)].append((run.data.metrics[name], setting, label))
    if not groups:
        raise ConfigError(f"experiment '{experiment}' has no FINISHED run with param '{x}' and metric '{metric}'")
    points: dict[str, list[Point]] = defaultdict(list)
    for (key, value), runs in groups.items():
        _same_setting(runs, f"{x}={value}" + (f", {series}={key}" if series else ""), series)
        points[key].append(summarise(value, [m for m, _, _ in runs]))
    return {k: sorted(v, key=lambda p: (isinstance(p.x, str), p.x)) for k, v in points.items()}


def _same_setting(runs: list[tuple[float, dict[str, str], str]], where: str, series: str | None) -> None:
    """Replicates differ only in seeds; a ConfigError naming the first other parameter that differs."""
    _, first, first_name = runs[0]
    for _, other, other_name in runs[1:]:
        for param in sorted(set(first) | set(other)):
            if first.get(param) != other.get(param):
                hint = "--series " + param if not series else f"a separate experiment per {param}"
                raise ConfigError(
                    f"plot-sweep: the runs at {where} differ in {param} ({first_name}: {first.get(param)}, "
                    f"{other_name}: {other.get(param)}); only seeds may differ between runs at one point "
                    f"(plot them apart: {hint})"
                )


def plot(points: dict, x: str, metric: str, title: str, out: Path, log_x: bool) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ordered = sorted(points.items(), key=lambda item: series_order(item[0]))
    numeric = all(isinstance(p.x, float) for _, values in ordered for p in values)
    categories = sorted({str(p.x) for _, values in ordered for p in values}, key=series_order)
    span = (
        max((p.x for _, v in ordered for p in v), default=1.0) - min((p.x for _, v in ordered for p in v), default=0.0)
        if numeric
        else 0
    )
    for i, (label, values) in enumerate(ordered):
        # Dodge the series a little sideways so that their error bars do not hide each other.
        shift = (i - (len(ordered) - 1) / 2) * 0.06
        if numeric:
            xs = [p.x * 2**shift if log_x else p.x + shift * (span or 1.0) / 4 for p in values]
        else:
            xs = [categories.index(str(p.x)) + shift for p in values]
        below = [p.mean - p.low if p.low is not None else 0.0 for p in values]
        above = [p.high - p.mean if p.high is not None else 0.0 for p in values]
        ax.errorbar(xs, [p.mean for p in values], yerr=[below, above], marker="o", capsize=3, label=label)
    if not numeric:
        ax.set_xticks(range(len(categories)), categories)
    replicated = sorted({p.runs for values in points.values() for p in values})
    if replicated != [1]:
        title += f"\nmean of {'/'.join(map(str, replicated))} seeds, bars: 95% t-interval"
    if log_x:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    as_json = {k: [[p.x, p.mean] for p in v] for k, v in points.items()}
    intervals = {k: [[p.x, p.low, p.high, p.runs] for p in v] for k, v in points.items()}
    out.with_suffix(".json").write_text(json.dumps({"x": x, "metric": metric, "points": as_json, "ci95": intervals}, indent=1))
    return out


def describe(point: Point) -> str:
    """``8.0=0.5000`` for one run; ``8.0=0.5000 [0.4800, 0.5200] (3 seeds)`` for replicates."""
    text = f"{point.x}={point.mean:.4f}"
    if point.low is not None and point.high is not None:
        text += f" [{point.low:.4f}, {point.high:.4f}] ({point.runs} seeds)"
    return text


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
        print(f"{label}: " + ", ".join(describe(p) for p in values))
    print(f"plot: {out}")
    return 0
