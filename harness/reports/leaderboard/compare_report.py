"""What ``harness compare`` prints and plots, from two systems' per-query scores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.reports.leaderboard import escape
from harness.reports.leaderboard.bootstrap import interval, wins_ties_losses
from harness.reports.leaderboard.significance import TESTS, format_p, p_value, resolution

TEXT_WIDTH = 60


@dataclass
class Paired:
    queries: list[str]
    a: list[float]
    b: list[float]

    @property
    def diffs(self) -> list[float]:
        return [y - x for x, y in zip(self.a, self.b)]

    def ordered(self) -> list[int]:
        """Query positions by descending difference (ties by query id, for a stable listing)."""
        return sorted(range(len(self.queries)), key=lambda i: (-self.diffs[i], self.queries[i]))


def summary(pair: Paired, args) -> str:
    import numpy as np

    control, treatment = np.array(pair.a), np.array(pair.b)
    wins, ties, losses = wins_ties_losses(pair.a, pair.b)
    low, high = interval(treatment - control, args.resamples, args.seed)
    p = {
        t: format_p(p_value(t, control, treatment, args.permutations, args.seed), resolution(t, args.permutations)) for t in TESTS
    }
    mean = float((treatment - control).mean())
    return (
        f"W/T/L (B vs A): {wins}/{ties}/{losses}\n"
        f"mean Δ {args.metric} (B - A): {mean:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}] "
        f"(paired bootstrap, {args.resamples:,} resamples)\n"
        f"p (student) {p['student']}, p (fisher) {p['fisher']} (paired, {args.permutations:,} permutations)"
    )


def listing(pair: Paired, positions: list[int], texts: dict[str, str]) -> str:
    from tabulate import tabulate

    def text(qid: str) -> str:
        value = escape.one_line(texts.get(qid, ""))
        return value if len(value) <= TEXT_WIDTH else value[: TEXT_WIDTH - 1] + "…"

    table = [
        [escape.one_line(pair.queries[i]), text(pair.queries[i]), f"{pair.a[i]:.4f}", f"{pair.b[i]:.4f}", f"{pair.diffs[i]:+.4f}"]
        for i in positions
    ]
    return tabulate(table, headers=["query", "text", "A", "B", "Δ"], tablefmt="simple", disable_numparse=True)


def plot_differences(pair: Paired, path: Path, metric: str, labels: tuple[str, str]) -> None:
    """A bar per query, sorted by B - A: gains in blue above zero, losses in orange below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    diffs = sorted(pair.diffs, reverse=True)
    fig, ax = plt.subplots(figsize=(max(6.4, len(diffs) * 0.05), 4.0))
    ax.bar(range(len(diffs)), diffs, width=1.0, color=["#4c72b0" if d > 0 else "#dd8452" for d in diffs])
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xlabel(f"queries, sorted by difference ({len(diffs)})")
    ax.set_ylabel(escape.plot_label(f"Δ {metric} (B - A)"))
    ax.set_title(escape.plot_label(f"A: {labels[0]}   B: {labels[1]}"), fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(a, b, shared: list[str], texts: dict[str, str], dataset: str, args, plot: Path) -> str:
    pair = Paired(shared, [a.scores[q] for q in shared], [b.scores[q] for q in shared])
    order = pair.ordered()
    top = min(args.top, len(order))
    gains = [i for i in order[:top] if pair.diffs[i] > 0]
    losses = [i for i in reversed(order[-top:]) if pair.diffs[i] < 0]
    plot_differences(pair, plot, args.metric, (a.label, b.label))
    parts = [
        f"A: {escape.one_line(a.label)}\nB: {escape.one_line(b.label)}",
        f"dataset: {dataset}, {args.metric} on {len(shared)} shared queries",
        summary(pair, args),
        f"largest gains of B over A ({len(gains)}):\n" + (listing(pair, gains, texts) if gains else "  none"),
        f"largest losses of B to A ({len(losses)}):\n" + (listing(pair, losses, texts) if losses else "  none"),
        f"wrote {plot}",
    ]
    return "\n\n".join(parts)
