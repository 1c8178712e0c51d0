"""Reference-free groundedness: is an answer supported by the relevant passages, by noise only, or by none?

For data without gold answers (TREC DL), defined in docs/rag.md:
an answer's *claim tokens* are its normalised tokens minus stopwords and minus
the question's tokens (restating the question is no evidence). Support by a
set of passages = the share of claim tokens that occur in them. The answer is

- ``abstain`` if it declines (as in rag_metrics),
- ``grounded`` if its support by the relevant passages is >= ``threshold``,
- ``noise`` if not, but its support by the noise passages is >= ``threshold``,
- ``unsupported`` otherwise (hallucinated: neither context backs it),

an answer with no claim tokens left is ``unsupported``.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from harness.rag.metrics import ABSTAIN_PHRASES, is_abstention, normalize

THRESHOLD = 0.5
STOPWORDS = frozenset(
    "i me my we our you your he him his she her it its they them their what which who whom this that these those "
    "am is are was were be been being have has had do does did and but if or because as until while of at by for "
    "with about against between into through during before after above below to from up down in out on off over "
    "under again further then once here there when where why how all any both each few more most other some such "
    "no nor not only own same so than too very s t can will just don should now answer question passage passages "
    "based according also".split()
)
LABELS = ("grounded", "noise", "unsupported", "abstain")


def tokens(text: str) -> set[str]:
    return {t for t in normalize(text).split() if t not in STOPWORDS}


def support(claims: Sequence[str], passages: Iterable[str]) -> float:
    found = set().union(*(tokens(p) for p in passages)) if passages else set()
    return sum(c in found for c in claims) / len(claims) if claims else 0.0


def ground(
    answer: str,
    question: str,
    relevant: Sequence[str],
    noise: Sequence[str],
    threshold: float = THRESHOLD,
    phrases: Sequence[str] = ABSTAIN_PHRASES,
) -> str:
    """One of ``grounded``, ``noise``, ``unsupported``, ``abstain`` (definition in the module docstring)."""
    if is_abstention(answer, phrases):
        return "abstain"
    claims = sorted(tokens(answer) - tokens(question))
    if not claims:
        return "unsupported"
    if support(claims, relevant) >= threshold:
        return "grounded"
    return "noise" if support(claims, noise) >= threshold else "unsupported"


def crosstab(rows: Iterable[dict]) -> dict[str, dict[str, int]]:
    """Counts of (answer-based verdict, groundedness label) over judged rows: the validation table."""
    table: dict[str, Counter] = {}
    for row in rows:
        if "verdict" in row and "grounding" in row:
            table.setdefault(row["verdict"], Counter())[row["grounding"]] += 1
    return {verdict: dict(counts) for verdict, counts in sorted(table.items())}
