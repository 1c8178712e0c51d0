"""Paired bootstrap confidence intervals, per-query wins/ties/losses, judged@k.

The bootstrap resamples *queries* with replacement (``RESAMPLES`` = 10,000
resamples, numpy's ``default_rng(seed)``, drawn in blocks so memory stays
small) and takes the 2.5th and 97.5th percentiles of the resampled means
(numpy's default linear interpolation). For a difference to the baseline the
same resampled queries are used for both systems: the interval of the mean of
the per-query differences, which is what "paired" means here.
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

RESAMPLES = 10_000
LEVEL = 0.95
TIE = 1e-9  # per-query scores closer than this are a tie
BLOCK = 500_000  # indices drawn at a time (resamples x queries)


def resampled_means(values, resamples: int = RESAMPLES, seed: int = 42) -> Iterator:
    """Blocks of bootstrap means of ``values``; the same stream as one ``integers(0, n, (resamples, n))``."""
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    rows = max(1, BLOCK // max(1, len(values)))
    for start in range(0, resamples, rows):
        count = min(rows, resamples - start)
        yield values[rng.integers(0, len(values), size=(count, len(values)))].mean(axis=1)


def interval(values, resamples: int = RESAMPLES, seed: int = 42, level: float = LEVEL) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``values`` (one value per query)."""
    import numpy as np

    if len(values) == 0:
        raise ValueError("a bootstrap interval needs at least one query")
    means = np.concatenate(list(resampled_means(values, resamples, seed)))
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def wins_ties_losses(control: Sequence[float], treatment: Sequence[float], tie: float = TIE) -> tuple[int, int, int]:
    """Queries where ``treatment`` beats, ties (within ``tie``) or loses to ``control``."""
    diffs = [t - c for c, t in zip(control, treatment)]
    wins = sum(d > tie for d in diffs)
    losses = sum(d < -tie for d in diffs)
    return wins, len(diffs) - wins - losses, losses


def top_documents(run: Mapping[str, Mapping[str, float]], k: int = 10) -> dict[str, list[str]]:
    """Each query's first ``k`` documents under the harness's one ranking rule."""
    from harness.ranking import ranked

    return {qid: [doc for doc, _ in ranked(docs)[:k]] for qid, docs in run.items()}


def judged_share(top: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]], k: int = 10) -> dict[str, float]:
    """judged@k per judged query: the share of its top-k documents that have a judgment (any label).

    The share is of the documents retrieved (up to k); a judged query with nothing retrieved counts 0.
    """
    shares = {}
    for qid, judged in qrels.items():
        docs = list(top.get(qid, ()))[:k]
        shares[qid] = sum(doc in judged for doc in docs) / len(docs) if docs else 0.0
    return shares
