"""Which entry the others are tested against, and why.

1. ``--baseline NAME``: the entry of that exact name, or the only one whose name contains it;
2. else the first stage the others build on: an entry that is a first stage (a retriever alone, a
   run file) whose identity is the upstream of the most other entries (a reranker of BM25 builds on
   the BM25 entry of the same retriever params; a ``retriever=run`` reranker on the run file of that
   path); ties go to the better ranked;
3. else the best entry (so every delta reads as a loss to the leader, never a flattering gain).
"""

from __future__ import annotations

from typing import Optional

from harness.errors import ConfigError
from harness.reports.leaderboard.entries import Entry

NAMED = "named by --baseline"
FIRST_STAGE = "the first stage the others build on"
BEST = "the best entry (no first stage that the others build on)"


def named(entries: list[Entry], wanted: str) -> str:
    exact = [e.name for e in entries if e.name == wanted]
    partial = [e.name for e in entries if wanted in e.name]
    if exact or len(partial) == 1:
        return (exact or partial)[0]
    raise ConfigError(
        f"leaderboard: baseline '{wanted}' matches {len(partial)} entries "
        f"({', '.join(partial[:5]) or 'none of ' + ', '.join(e.name for e in entries[:10])})"
    )


def first_stage(entries: list[Entry]) -> Optional[str]:
    """The best-ranked first stage with the most entries built on it; None when nothing builds on one."""
    built_on = [e.upstream for e in entries if e.upstream]
    counts = [(built_on.count(e.stage), -rank, e.name) for rank, e in enumerate(entries) if e.stage]
    best = max(counts, default=(0, 0, None))
    return best[2] if best[0] > 0 else None


def pick_baseline(entries: list[Entry], wanted: Optional[str]) -> tuple[str, str]:
    """``(name, why)`` over entries ranked best first."""
    if wanted:
        return named(entries, wanted), NAMED
    stage = first_stage(entries)
    return (stage, FIRST_STAGE) if stage else (entries[0].name, BEST)
