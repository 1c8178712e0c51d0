"""RAG answer measures (RGB-style): accuracy, abstention, hallucination, rejection.

An answer is *correct* when its normalised text contains a normalised gold
answer, *abstains* when it contains an abstention phrase (and is not correct),
and *hallucinates* otherwise. At noise ratio 1 no context passage holds the
answer, so the abstention rate there is the *rejection rate*. Normalisation
follows SQuAD's: lower case, no punctuation, no articles, single spaces.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Iterable, Sequence

# Phrases by which an instruction-tuned model declines; matched on normalised text.
ABSTAIN_PHRASES = (
    "cannot answer", "can not answer", "cant answer", "unable to answer", "not able to answer",
    "i dont know", "i do not know", "no answer", "not enough information", "insufficient information",
    "does not contain", "do not contain", "doesnt contain", "dont contain", "not mentioned",
    "no information", "not provided", "cannot be determined", "cannot determine",
)

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation + "‘’“”")


def normalize(text: str) -> str:
    """Lower case, strip punctuation and articles, collapse whitespace."""
    text = text.lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def is_correct(answer: str, gold: Iterable[str]) -> bool:
    """True when the normalised answer contains a (non-empty) normalised gold answer."""
    norm = f" {normalize(answer)} "
    return any(g and f" {g} " in norm for g in map(normalize, gold))


def is_abstention(answer: str, phrases: Sequence[str] = ABSTAIN_PHRASES) -> bool:
    norm = normalize(answer)
    return not norm or any(normalize(p) in norm for p in phrases)


def judge(answer: str, gold: Iterable[str], phrases: Sequence[str] = ABSTAIN_PHRASES) -> str:
    """``correct``, ``abstain`` or ``hallucinated``: correctness wins over a hedge."""
    if is_correct(answer, gold):
        return "correct"
    return "abstain" if is_abstention(answer, phrases) else "hallucinated"


@dataclass
class Rates:
    accuracy: float
    abstention: float
    hallucination: float
    n: int


def rates(verdicts: Sequence[str]) -> Rates:
    n = len(verdicts)
    if not n:
        return Rates(0.0, 0.0, 0.0, 0)
    share = lambda v: sum(x == v for x in verdicts) / n  # noqa: E731
    return Rates(share("correct"), share("abstain"), share("hallucinated"), n)


def curve_area(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Trapezoid area under ``ys`` over ``xs`` (sorted), divided by the x-range: a mean level in [0, 1]."""
    points = sorted(zip(xs, ys))
    if len(points) < 2:
        return float(points[0][1]) if points else 0.0
    area = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in zip(points, points[1:]))
    return area / (points[-1][0] - points[0][0])
