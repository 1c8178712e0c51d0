"""A suite's leaderboard: each system's metric on each of the suite's datasets, their mean, and significance
per dataset (BEIR / MTEB style).

- A *system* is a run config without its dataset: entries of two datasets whose params agree once the
  ``dataset.*`` keys and those that only say where or how a run was recorded are left out are one system
  (so ``harness run suite=dl`` and two plain runs give the same row).
- Each dataset keeps its own board (:func:`.board.build_leaderboard`) over the suite's systems, tested
  against one baseline *system* for the whole suite: ``--baseline NAME``, else the first stage the others
  build on on the most datasets, else the best mean. A dataset's cell carries that board's markers.
- The mean is the unweighted mean over the suite's datasets, blank for a system that lacks one of them
  (ranked after the complete ones).
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass, field
from typing import Mapping, Optional

from harness.errors import ConfigError
from harness.ranking import ranked as ranked_by_score
from harness.reports.leaderboard.baseline import BEST, FIRST_STAGE, NAMED, first_stage, named
from harness.reports.leaderboard.board import Leaderboard, build_leaderboard
from harness.reports.leaderboard.entries import NOT_DISTINGUISHING, Entry, unique_names
from harness.reports.leaderboard.significance import TestOptions

logger = logging.getLogger(__name__)
NOT_SYSTEM = (*NOT_DISTINGUISHING, "dataset.", "suite", "data_root")


@dataclass
class SuiteBoard:
    name: str
    metric: str
    datasets: dict[str, str]  # label -> dataset id, in suite order
    systems: list[str]  # ranked: complete systems by mean, then the others by name
    scores: dict[str, dict[str, float]]  # system -> label -> mean of the metric
    boards: dict[str, Leaderboard]  # label -> that dataset's board over the suite's systems
    baseline: Optional[str] = None
    baseline_reason: str = ""
    sources: dict[str, dict[str, str]] = field(default_factory=dict)  # system -> label -> source

    def mean(self, system: str) -> Optional[float]:
        found = self.scores[system]
        return sum(found.values()) / len(found) if len(found) == len(self.datasets) else None

    def delta(self, system: str) -> Optional[float]:
        own, base = self.mean(system), self.mean(self.baseline) if self.baseline else None
        return None if own is None or base is None or system == self.baseline else own - base

    def significant(self, system: str) -> tuple[int, int]:
        """Datasets where the system differs significantly from the baseline under every test: (gains, losses)."""
        gains = losses = 0
        for board in self.boards.values():
            found = board.comparisons.get(system)
            if found and found.significant and all(found.significant.values()):
                gains, losses = gains + (found.delta > 0), losses + (found.delta < 0)
        return gains, losses

    def marker(self, system: str, label: str) -> str:
        board = self.boards.get(label)
        return board.markers(system) if board else ""

    def baseline_line(self) -> str:
        return f"baseline: {self.baseline}, {self.baseline_reason}" if self.baseline else "baseline: none (one system)"

    def legend(self) -> str:
        tested = next((b for b in self.boards.values() if b.baseline), None)
        marks = (
            f"{tested.legend().split(':')[0]}: p <= {tested.options.alpha} against the baseline on that dataset's "
            f"{self.metric} ({tested.options.correction} correction over that dataset's comparisons)"
            if tested
            else "no significance tests"
        )
        return (
            f"{marks}; mean = unweighted mean over the "
            f"{len(self.datasets)} datasets (blank where a system lacks one); Δ mean = mean - the baseline's; "
            "sig. +/- = datasets with a significant gain / loss under every test; "
            + "; ".join(f"{label} = {dataset}" for label, dataset in self.datasets.items())
        )


def system_key(entry: Entry) -> str:
    """What an entry is apart from its dataset: its params without dataset and recording keys (else its name)."""
    if not entry.params:
        return f"name:{entry.name}"
    own = {k: v for k, v in sorted(entry.params.items()) if not k.startswith(NOT_SYSTEM)}
    return json.dumps(own, sort_keys=True)


def by_system(entries: list[Entry], datasets: Mapping[str, str]) -> dict[str, dict[str, Entry]]:
    """system key -> label -> its entry (the first, i.e. newest, where a system ran twice on a dataset)."""
    label_of = {dataset: label for label, dataset in datasets.items()}
    found: dict[str, dict[str, Entry]] = {}
    for entry in entries:
        label = label_of.get(entry.dataset)
        if label is not None:
            found.setdefault(system_key(entry), {}).setdefault(label, entry)
    return found


def _name_systems(systems: dict[str, dict[str, Entry]]) -> dict[str, dict[str, Entry]]:
    """Copies of the entries named by system, names told apart over the whole suite (not per dataset)."""
    keys = list(systems)
    representatives = [copy.copy(next(iter(systems[key].values()))) for key in keys]
    unique_names(representatives)
    return {
        rep.name: {label: _renamed(entry, rep.name) for label, entry in systems[key].items()}
        for key, rep in zip(keys, representatives)
    }


def _renamed(entry: Entry, name: str) -> Entry:
    out = copy.copy(entry)
    out.name = name
    return out


def pick_baseline(named_systems: dict[str, dict[str, Entry]], ranked: list[str], wanted: Optional[str]):
    if wanted:
        return named([Entry(name, "", "", {}, {}) for name in ranked], wanted), NAMED
    votes: dict[str, int] = {}
    for label in {label for per in named_systems.values() for label in per}:
        group = [per[label] for per in named_systems.values() if label in per]
        stage = first_stage(group)
        if stage:
            votes[stage] = votes.get(stage, 0) + 1
    if votes:
        return max(ranked, key=lambda name: (votes.get(name, 0), -ranked.index(name))), FIRST_STAGE
    return ranked[0], BEST


def build_suite(
    name: str,
    datasets: Mapping[str, str],
    entries: list[Entry],
    metric: str,
    baseline: Optional[str] = None,
    options: TestOptions = TestOptions(),
) -> SuiteBoard:
    """The suite's board over ``entries`` (those of other datasets are left out)."""
    systems = _name_systems(by_system(entries, datasets))
    if not systems:
        raise ConfigError(f"leaderboard --suite {name}: no entry on any of its datasets ({', '.join(datasets.values())})")
    missing = [label for label in datasets if not any(label in per for per in systems.values())]
    if missing:
        logger.warning("leaderboard --suite %s: no run on %s", name, ", ".join(missing))
    for system, per in systems.items():
        lacking = [label for label in per.values() if metric not in label.per_query]
        if lacking:
            raise ConfigError(f"leaderboard --suite {name}: metric '{metric}' is missing from '{system}' on {lacking[0].dataset}")
    scores = {system: {label: e.mean[metric] for label, e in per.items()} for system, per in systems.items()}
    suite = SuiteBoard(
        name,
        metric,
        dict(datasets),
        [],
        scores,
        {},
        sources={s: {label: e.source for label, e in per.items()} for s, per in systems.items()},
    )
    means = {s: suite.mean(s) for s in systems}
    complete = {s: m for s, m in means.items() if m is not None}
    suite.systems = [s for s, _ in ranked_by_score(complete)] if complete else []
    suite.systems += sorted(s for s in systems if s not in complete)
    if len(systems) > 1:
        suite.baseline, suite.baseline_reason = pick_baseline(systems, suite.systems, baseline)
    for label in datasets:
        group = [per[label] for per in systems.values() if label in per]
        if group:
            suite.boards[label] = _dataset_board(group, metric, suite.baseline, datasets[label], options)
            if suite.boards[label].baseline:
                suite.boards[label].baseline_reason = f"the suite's baseline: {suite.baseline_reason}"
    return suite


def _dataset_board(group: list[Entry], metric: str, baseline: Optional[str], dataset: str, options: TestOptions) -> Leaderboard:
    """One dataset's board against the suite's baseline; without it there, no tests on that dataset."""
    present = baseline and any(e.name == baseline for e in group)
    board = build_leaderboard(group, metric, baseline if present else None, options)
    if not present and len(group) > 1:
        board.baseline, board.baseline_reason, board.comparisons = None, "", {}
        logger.warning("leaderboard: the suite's baseline '%s' has no run on %s: no tests there", baseline, dataset)
    board.dataset = dataset
    return board
