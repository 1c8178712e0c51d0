"""What the noise injectors (``noise=random|hard|counterfactual|retrieved``) share.

For k passages and noise ratio rho, ``ceil(k*rho)`` are noise and the rest of
the k slots hold gold passages (as many as the question has: HaluEval has
one, so its context is 1 gold + ceil(k*rho) noise, and k noise at rho = 1).
The gold block goes first, in the middle of the noise, or last.

Each injector is its own module beside this one (``random``, ``hard``,
``counterfactual``, ``retrieved``) and only chooses the noise. A question's
own counterfactual passages are noise for ``counterfactual`` only: the others
never draw them, so noise robustness and counterfactual robustness are
measured apart (RGB).

Draws are seeded per (seed, query id): a question's context does not depend
on which other questions are in the run.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

from harness.components import NoiseInjector, option

logger = logging.getLogger(__name__)
POSITIONS = ("first", "middle", "last")


@dataclass
class NoiseConfig:
    k: int = option(5, "passages in the context", ge=1)
    ratio: float = option(0.0, "noise ratio rho: ceil(k*rho) of the k passages are noise", ge=0, le=1)
    gold_position: str = option("first", "where the gold passages go", choices=POSITIONS)
    seed: int = option(0, "seed of random draws (combined with the query id)", ge=0)


def noise_count(k: int, ratio: float) -> int:
    # round() first: 5 * 0.6 is 3.0000000000000004 in floating point.
    return math.ceil(round(k * ratio, 9))


class ContextNoise(NoiseInjector):
    """Shared logic: counts and gold placement (the registry checks the config's bounds). Subclasses choose the noise."""

    Config = NoiseConfig
    needs_corpus: ClassVar[bool] = False  # True: prepare() receives every corpus doc id
    draws_counterfactuals: ClassVar[bool] = False  # False: the question's own counterfactual passages are banned

    def __init__(self, config: NoiseConfig, context):
        super().__init__(config, context)
        self.corpus_ids: Sequence[str] = ()

    def prepare(self, corpus_ids: Sequence[str]) -> None:
        self.corpus_ids = corpus_ids

    def rng(self, query: Any) -> random.Random:
        return random.Random(f"{self.config.seed}:{query.query_id}")

    def inject(self, query: Any, passages: Sequence[str], candidates: Sequence[str]) -> list[str]:
        """Context doc ids: gold ``passages`` placed among noise drawn from ``candidates`` (ranked non-gold ids)."""
        n_noise = noise_count(self.config.k, self.config.ratio)
        gold = list(passages)[: self.config.k - n_noise]
        banned = set(passages)
        if not self.draws_counterfactuals:
            banned |= set(getattr(query, "counterfactual_doc_ids", ()) or ())
        noise = [d for d in self.choose(query, [c for c in candidates if c not in banned], n_noise, banned) if d not in banned][
            :n_noise
        ]
        if len(noise) < n_noise:
            logger.warning(
                "noise=%s: query %s: only %d of %d noise passages available", self.name, query.query_id, len(noise), n_noise
            )
        where = {"first": 0, "middle": len(noise) // 2, "last": len(noise)}[self.config.gold_position]
        return noise[:where] + gold + noise[where:]

    def choose(self, query: Any, candidates: list[str], n: int, banned: set[str]) -> list[str]:
        raise NotImplementedError
