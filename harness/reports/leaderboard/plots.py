"""The leaderboard's figures (matplotlib, Agg), as PNG bytes.

Effectiveness against latency and against trainable parameters where at
least two entries have them (one point shows no trade-off: the page says so
instead), noise curves where entries logged '<measure>@rho=<ratio>' metrics,
and always the ranking itself as bars, so every page has a figure.
"""

from __future__ import annotations

import io

from harness.reports.leaderboard.board import Leaderboard
from harness.reports.leaderboard.escape import plot_label


MIN_POINTS = 2  # a scatter with fewer points carries no information
SCATTERS = {
    "latency": ("latency", "latency (s per run, or logged latency)"),
    "trainable_params": ("trainable parameters", "trainable parameters"),
}


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6.4, 4.0))


def ranking(board: Leaderboard) -> bytes:
    fig, ax = _figure()
    names = [plot_label(e.name + board.markers(e.name)) for e in board.entries][::-1]
    ax.barh(names, [e.mean[board.metric] for e in board.entries][::-1], color="#4c72b0")
    ax.set_xlabel(plot_label(board.metric))
    baseline = f"baseline: {board.baseline}" if board.baseline else "no baseline"
    ax.set_title(plot_label(f"{board.metric} ({baseline})"), fontsize=9)
    ax.tick_params(axis="y", labelsize=7)
    return _png(fig)


def scatter(board: Leaderboard, attribute: str, label: str, log: bool) -> bytes | None:
    points = [(getattr(e, attribute), e.mean[board.metric], e.name) for e in board.entries if getattr(e, attribute) is not None]
    if len(points) < MIN_POINTS:
        return None
    fig, ax = _figure()
    ax.scatter([p[0] for p in points], [p[1] for p in points], color="#dd8452")
    for x, y, name in points:
        ax.annotate(plot_label(name), (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
    if log and all(p[0] > 0 for p in points):
        ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel(plot_label(board.metric))
    return _png(fig)


def noise_curves(board: Leaderboard) -> bytes | None:
    curves = [(e.name, measure, points) for e in board.entries for measure, points in e.noise_curves().items()]
    if not curves:
        return None
    fig, ax = _figure()
    for name, measure, points in curves:
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=plot_label(f"{name}: {measure}"))
    ax.set_xlabel("noise ratio rho")
    ax.set_ylabel("value")
    ax.legend(fontsize=6)
    return _png(fig)


def all_plots(board: Leaderboard) -> dict[str, bytes]:
    """Title -> PNG, for the figures the entries have data for."""
    found: dict[str, bytes | None] = {f"{board.metric} by system": ranking(board)}
    for attribute, (what, label) in SCATTERS.items():
        found[f"{board.metric} vs {what}"] = scatter(board, attribute, label, True)
    found["noise curves"] = noise_curves(board)
    return {title: png for title, png in found.items() if png}


def notes(board: Leaderboard) -> list[str]:
    """Why a figure is left out, where some entry had data for it."""
    out = []
    for attribute, (what, _) in SCATTERS.items():
        have = sum(getattr(e, attribute) is not None for e in board.entries)
        if 0 < have < MIN_POINTS:
            out.append(f"no {board.metric} vs {what} plot: only {have} entry has a {what} figure")
    return out
