"""Rank entries by one metric and compare each with a baseline."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Optional

from harness.errors import ConfigError
from harness.reports.leaderboard.entries import Entry, unique_names
from harness.reports.leaderboard.significance import TESTS, Comparison, compare_to_baseline
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
    tests: tuple[str, ...] = TESTS
    correction: str = "holm"
    alpha: float = 0.05

    def markers(self, name: str) -> str:
        """'†' (t-test) and '‡' (Fisher) where the difference with the baseline is significant."""
        found = self.comparisons.get(name)
        return "" if found is None else "".join(MARKERS[t] for t in self.tests if found.significant.get(t))

    def legend(self) -> str:
        if not self.baseline:
            return "no baseline: no significance tests"
        tests = ", ".join(f"{MARKERS[t]} {'paired t-test' if t == 'student' else 'Fisher randomization'}"
                          for t in self.tests)
        return (f"{tests}: p <= {self.alpha} against the baseline '{self.baseline}' on {self.metric} "
                f"({self.correction} correction over {len(self.comparisons)} comparisons); "
                "d = paired effect size (Cohen's d_z)")


def shared_metrics(entries: list[Entry], metric: str) -> list[str]:
    common = set.intersection(*(set(e.per_query) for e in entries))
    if metric not in common:
        missing = [e.name for e in entries if metric not in e.per_query]
        raise ConfigError(f"leaderboard: metric '{metric}' is missing from {', '.join(missing[:5])}; "
                          f"shared metrics: {', '.join(sorted(common)) or 'none'}")
    return [metric] + sorted(common - {metric})


def pick_baseline(entries: list[Entry], wanted: Optional[str]) -> str:
    """The entry named ``wanted`` (exactly, or the only one containing it); default: the last ranked."""
    if not wanted:
        return entries[-1].name
    exact = [e.name for e in entries if e.name == wanted]
    partial = [e.name for e in entries if wanted in e.name]
    if exact or len(partial) == 1:
        return (exact or partial)[0]
    raise ConfigError(f"leaderboard: baseline '{wanted}' matches {len(partial)} entries "
                      f"({', '.join(partial[:5]) or 'none of ' + ', '.join(e.name for e in entries[:10])})")


def build_leaderboard(entries: list[Entry], metric: str, baseline: Optional[str] = None, tests=TESTS,
                      correction: str = "holm", alpha: float = 0.05, n_permutations: int = 1000,
                      seed: int = 42) -> Leaderboard:
    if not entries:
        raise ConfigError("leaderboard: no entries (no FINISHED runs matched, and no run files given)")
    datasets = {e.dataset for e in entries if e.dataset}
    if len(datasets) > 1:
        logger.warning("leaderboard: entries come from %d datasets (%s); filter with --dataset",
                       len(datasets), ", ".join(sorted(datasets)))
    metrics = shared_metrics(unique_names(entries), metric)
    by_name = {e.name: e for e in entries}
    # The one ranking rule of run files and evaluation: ties in the mean by descending name.
    ranked = [by_name[name] for name, _ in ranked_by_score({e.name: e.mean[metric] for e in entries})]
    board = Leaderboard(metric, metrics, ranked, tests=tuple(tests), correction=correction, alpha=alpha)
    if len(ranked) > 1:
        board.baseline = pick_baseline(ranked, baseline)
        board.comparisons = compare_to_baseline({e.name: e.per_query[metric] for e in ranked}, board.baseline,
                                                tests, correction, alpha, n_permutations, seed)
    return board
