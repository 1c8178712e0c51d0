"""RAG answer measures (RGB-style): accuracy, abstention, hallucination, rejection, counterfactual robustness.

An answer is *correct* when its normalised text contains a normalised gold
answer, *abstains* when it contains an abstention phrase (and is not correct),
and *hallucinates* otherwise. At noise ratio 1 no context passage holds the
answer, so the abstention rate there is the *rejection rate*. Normalisation
follows SQuAD's: lower case, no punctuation, no articles, single spaces.

For questions with counterfactual answers (the false facts their
counterfactual passages state): an answer *adopts* a counterfactual when it
contains one by the same rule as correctness, and *detects an error* when it
contains one of ``ERROR_PHRASES`` as whole words (it says the context is
wrong, false or contradictory).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Iterable, Sequence

# Phrases by which an instruction-tuned model declines; matched on normalised text.
ABSTAIN_PHRASES = (
    "cannot answer",
    "can not answer",
    "cant answer",
    "unable to answer",
    "not able to answer",
    "i dont know",
    "i do not know",
    "no answer",
    "not enough information",
    "insufficient information",
    "does not contain",
    "do not contain",
    "doesnt contain",
    "dont contain",
    "not mentioned",
    "no information",
    "not provided",
    "cannot be determined",
    "cannot determine",
)

# Phrases by which an answer says its context is wrong; whole words of the normalised text (RGB's
# "factual errors" check, widened to the ways a model says it). Apostrophes go in normalisation: "isnt".
ERROR_PHRASES = (
    "factual error",
    "factual errors",
    "error",
    "errors",
    "erroneous",
    "incorrect",
    "incorrectly",
    "not correct",
    "isnt correct",
    "wrong",
    "false",
    "falsely",
    "not true",
    "isnt true",
    "untrue",
    "inaccurate",
    "inaccuracy",
    "contradict",
    "contradicts",
    "contradictory",
    "contradiction",
    "contradictions",
    "inconsistent",
    "inconsistency",
    "conflict",
    "conflicts",
    "conflicting",
    "misinformation",
    "misleading",
    "mistaken",
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


def adopts_counterfactual(answer: str, counterfactual_answers: Iterable[str]) -> bool:
    """True when the answer states one of the question's counterfactual (false) answers: ``is_correct``'s rule."""
    return is_correct(answer, counterfactual_answers)


def detects_error(answer: str, phrases: Sequence[str] = ERROR_PHRASES) -> bool:
    """True when the normalised answer contains an error phrase as whole words ("the passages contradict...")."""
    norm = f" {normalize(answer)} "
    return any(f" {normalize(p)} " in norm for p in phrases)


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
