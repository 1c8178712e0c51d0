"""Rank entries by one metric and compare each with a baseline; one board per dataset."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Optional

from harness.errors import ConfigError
from harness.reports.leaderboard.baseline import pick_baseline
from harness.reports.leaderboard.bootstrap import interval
from harness.reports.leaderboard.entries import Entry, unique_names
from harness.reports.leaderboard.significance import Comparison, TestOptions, compare_to_baseline, format_p, resolution
from harness.ranking import ranked as ranked_by_score

logger = logging.getLogger(__name__)
MARKERS = {"student": "†", "fisher": "‡"}  # shown beside a significant difference


@dataclass
class Leaderboard:
    metric: str
    metrics: list[str]  # every metric all entries share, the ranking one first
    entries: list[Entry]  # best first
    baseline: Optional[str] = None
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    options: TestOptions = TestOptions()
    dataset: str = ""
    baseline_reason: str = ""
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)  # 95% CI of each entry's metric

    def judged(self, entry: Entry) -> Optional[float]:
        """Mean judged@10 over the queries, or None where the entry's documents are not known."""
        return sum(entry.judged.values()) / len(entry.judged) if entry.judged else None

    def p_text(self, test: str, p: float) -> str:
        return format_p(p, resolution(test, self.options.n_permutations))

    def baseline_line(self) -> str:
        return f"baseline: {self.baseline}, {self.baseline_reason}" if self.baseline else "baseline: none (one entry)"

    def markers(self, name: str) -> str:
        """'†' (t-test) and '‡' (Fisher) where the difference with the baseline is significant."""
        found = self.comparisons.get(name)
        return "" if found is None else "".join(MARKERS[t] for t in self.options.tests if found.significant.get(t))

    def legend(self) -> str:
        if not self.baseline:
            return "no baseline: no significance tests"
        tests = ", ".join(
            f"{MARKERS[t]} {'paired t-test' if t == 'student' else 'Fisher randomization'}" for t in self.options.tests
        )
        return (
            f"{tests}: p <= {self.options.alpha} against the baseline '{self.baseline}' on {self.metric} "
            f"({self.options.correction} correction over {len(self.comparisons)} comparisons); "
            f"95% CI = paired bootstrap over queries ({self.options.resamples:,} resamples); "
            "W/T/L = queries won/tied/lost against the baseline; d = paired effect size (Cohen's d_z); "
            "judged@10 = share of the top-10 documents that have a judgment"
        )


def shared_metrics(entries: list[Entry], metric: str) -> list[str]:
    common = set.intersection(*(set(e.per_query) for e in entries))
    if metric not in common:
        missing = [e.name for e in entries if metric not in e.per_query]
        raise ConfigError(
            f"leaderboard: metric '{metric}' is missing from {', '.join(missing[:5])}; "
            f"shared metrics: {', '.join(sorted(common)) or 'none'}"
        )
    return [metric] + sorted(common - {metric})


def build_leaderboard(
    entries: list[Entry],
    metric: str,
    baseline: Optional[str] = None,
    options: TestOptions = TestOptions(),
) -> Leaderboard:
    """One board over entries of one dataset."""
    if not entries:
        raise ConfigError("leaderboard: no entries (no FINISHED runs matched, and no run files given)")
    metrics = shared_metrics(unique_names(entries), metric)
    by_name = {e.name: e for e in entries}
    # The one ranking rule of run files and evaluation: ties in the mean by descending name.
    ranked = [by_name[name] for name, _ in ranked_by_score({e.name: e.mean[metric] for e in entries})]
    board = Leaderboard(metric, metrics, ranked, options=options, dataset=entries[0].dataset)
    board.intervals = {
        e.name: interval([e.per_query[metric][q] for q in sorted(e.per_query[metric])], options.resamples, options.seed)
        for e in ranked
        if e.per_query[metric]
    }
    if len(ranked) > 1:
        board.baseline, board.baseline_reason = pick_baseline(ranked, baseline)
        board.comparisons = compare_to_baseline({e.name: e.per_query[metric] for e in ranked}, board.baseline, options)
    return board


def by_dataset(entries: list[Entry]) -> dict[str, list[Entry]]:
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.dataset or "(no dataset tag)", []).append(entry)
    return dict(sorted(groups.items()))


def build_leaderboards(
    entries: list[Entry], metric: str, baseline: Optional[str] = None, options: TestOptions = TestOptions()
) -> list[Leaderboard]:
    """One board per dataset, each with its own ranking, baseline and tests.

    ``--baseline NAME`` applies on the datasets that have such an entry (the others use the default
    rule); a name that no dataset has is an error.
    """
    if not entries:
        raise ConfigError("leaderboard: no entries (no FINISHED runs matched, and no run files given)")
    groups = by_dataset(entries)
    having = {d for d, group in groups.items() if baseline and any(baseline in e.name for e in group)}
    boards = []
    for dataset, group in groups.items():
        wanted = baseline if dataset in having or (baseline and not having) else None  # none: the error, named
        board = build_leaderboard(group, metric, wanted, options)
        board.dataset = dataset
        boards.append(board)
    if len(boards) > 1:
        logger.info("leaderboard: %d datasets, one section each (%s)", len(boards), ", ".join(b.dataset for b in boards))
    return boards
