"""Paired significance of each entry against a baseline, over per-query scores.

The tests are ranx's own (the functions ``ranx.compare`` calls: paired
Student's t-test and Fisher's randomization test, same seed and permutations),
fed with the per-query scores each run logged, so the markers agree with
``ranx.compare`` on the same runs. (ranx's Fisher test draws its permutations
in numba threads: its p-values vary run to run by Monte Carlo error, about
sqrt(p(1-p)/permutations), even with a fixed seed; raise ``n_permutations``
where a p-value sits near alpha.) ranx corrects nothing for many comparisons;
Holm and Bonferroni are a few lines each, so they live here rather than in a
new dependency (statsmodels).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from harness.errors import ConfigError
from harness.reports.leaderboard.bootstrap import RESAMPLES, interval, wins_ties_losses

logger = logging.getLogger(__name__)
TESTS = ("student", "fisher")
CORRECTIONS = ("holm", "bonferroni", "none")


@dataclass(frozen=True)
class TestOptions:
    """How every entry is tested against the baseline: the ``leaderboard`` flags, in one value.

    ``tests`` (``--test``), ``correction`` (``--correction``), ``alpha`` (``--alpha``),
    ``n_permutations`` (``--permutations``, Fisher), ``seed`` (of Fisher and the bootstrap) and
    ``resamples`` (``--resamples``, the bootstrap's 95% CI).
    """

    __test__ = False  # not a pytest test class, though its name starts with Test

    tests: tuple[str, ...] = TESTS
    correction: str = "holm"
    alpha: float = 0.05
    n_permutations: int = 1000
    seed: int = 42
    resamples: int = RESAMPLES

    def __post_init__(self) -> None:
        object.__setattr__(self, "tests", tuple(self.tests))  # a list from argparse or a caller


@dataclass
class Comparison:
    delta: float  # treatment mean - baseline mean
    effect_size: float  # paired Cohen's d_z: mean difference / sd of differences
    queries: int
    p: dict[str, float] = field(default_factory=dict)  # test -> raw p-value
    p_corrected: dict[str, float] = field(default_factory=dict)
    significant: dict[str, bool] = field(default_factory=dict)
    interval: tuple[float, float] = (math.nan, math.nan)  # paired bootstrap 95% CI of delta
    wtl: tuple[int, int, int] = (0, 0, 0)  # queries won, tied, lost against the baseline


def paired_arrays(baseline: dict[str, float], treatment: dict[str, float]):
    """Scores on the queries both have, in ranx's order (sorted query ids)."""
    import numpy as np

    shared = sorted(set(baseline) & set(treatment))
    if not shared:
        raise ConfigError("leaderboard: an entry shares no query with the baseline; are they on one dataset?")
    return (np.array([baseline[q] for q in shared], dtype=np.float64), np.array([treatment[q] for q in shared], dtype=np.float64))


def resolution(test: str, n_permutations: int = 1000) -> float:
    """The smallest p-value a test can report meaningfully: 1/permutations for Fisher (at least 0.001)."""
    return max(0.001, 1.0 / n_permutations) if test == "fisher" else 0.001


def format_p(p: float, smallest: float = 0.001) -> str:
    """``0.0283``, or ``< 0.001`` below the test's resolution (never 0 or 0.0000)."""
    return f"< {smallest:g}" if p < smallest else f"{p:.4f}"


def p_value(test: str, control, treatment, n_permutations: int = 1000, seed: int = 42) -> float:
    from ranx.statistical_tests import fisher_randomization_test, paired_student_t_test

    if test == "fisher":
        return float(fisher_randomization_test(control, treatment, n_permutations, 0.05, seed)[0])
    if test == "student":
        p = float(paired_student_t_test(control, treatment, 0.05)[0])
        return 1.0 if math.isnan(p) else p  # identical scores: no evidence of a difference
    raise ConfigError(f"leaderboard: unknown test '{test}' (choose from {', '.join(TESTS)})")


def effect_size(control, treatment) -> float:
    diff = treatment - control
    sd = float(diff.std(ddof=1)) if len(diff) > 1 else 0.0
    mean = float(diff.mean())
    return 0.0 if sd == 0.0 and mean == 0.0 else (math.copysign(math.inf, mean) if sd == 0.0 else mean / sd)


def correct(p_values: dict[str, float], method: str) -> dict[str, float]:
    """Adjusted p-values (Holm's step-down or Bonferroni), capped at 1."""
    m = len(p_values)
    if method == "none" or m == 0:
        return dict(p_values)
    if method == "bonferroni":
        return {name: min(1.0, p * m) for name, p in p_values.items()}
    if method != "holm":
        raise ConfigError(f"leaderboard: unknown correction '{method}' (choose from {', '.join(CORRECTIONS)})")
    adjusted, running = {}, 0.0
    for rank, (name, p) in enumerate(sorted(p_values.items(), key=lambda kv: kv[1])):
        running = max(running, min(1.0, (m - rank) * p))  # monotone step-down
        adjusted[name] = running
    return adjusted


def compare_to_baseline(
    per_query: dict[str, dict[str, float]], baseline: str, options: TestOptions = TestOptions()
) -> dict[str, Comparison]:
    """``per_query``: entry name -> query -> score of one metric. One Comparison per non-baseline entry."""
    base = per_query[baseline]
    out: dict[str, Comparison] = {}
    for name, scores in per_query.items():
        if name == baseline:
            continue
        if not set(base) & set(scores):
            logger.warning("leaderboard: '%s' shares no query with the baseline '%s': not compared", name, baseline)
            continue
        control, treatment = paired_arrays(base, scores)
        out[name] = Comparison(
            delta=float(treatment.mean() - control.mean()),
            effect_size=effect_size(control, treatment),
            queries=len(control),
            p={t: p_value(t, control, treatment, options.n_permutations, options.seed) for t in options.tests},
            interval=interval(treatment - control, options.resamples, options.seed),
            wtl=wins_ties_losses(control, treatment),
        )
    for test in options.tests:  # the family: every entry compared to the baseline with this test
        adjusted = correct({name: c.p[test] for name, c in out.items()}, options.correction)
        for name, comparison in out.items():
            comparison.p_corrected[test] = adjusted[name]
            comparison.significant[test] = adjusted[name] <= options.alpha
    return out
