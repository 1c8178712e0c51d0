"""``noise=random|hard|counterfactual|retrieved``: what goes into a generator's context.

For k passages and noise ratio rho, ``ceil(k*rho)`` are noise and the rest of
the k slots hold gold passages (as many as the question has: HaluEval has
one, so its context is 1 gold + ceil(k*rho) noise, and k noise at rho = 1).
The gold block goes first, in the middle of the noise, or last.

- ``random``: passages drawn uniformly from the corpus (never a gold one);
- ``hard``: the first stage's top-ranked non-relevant passages;
- ``counterfactual``: the question's counterfactual passages (data that has
  them), then hard negatives if it has fewer than needed;
- ``retrieved``: no injection; the first stage's top k as they come (the
  end-to-end setting, reported with context precision).

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
from harness.errors import ConfigError
from harness.hookspecs import hookimpl

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
        noise = [d for d in self.choose(query, [c for c in candidates if c not in banned], n_noise, banned)
                 if d not in banned][:n_noise]
        if len(noise) < n_noise:
            logger.warning("noise=%s: query %s: only %d of %d noise passages available", self.name,
                           query.query_id, len(noise), n_noise)
        where = {"first": 0, "middle": len(noise) // 2, "last": len(noise)}[self.config.gold_position]
        return noise[:where] + gold + noise[where:]

    def choose(self, query: Any, candidates: list[str], n: int, banned: set[str]) -> list[str]:
        raise NotImplementedError


class RandomNoise(ContextNoise):
    needs_corpus = True

    def choose(self, query, candidates, n, banned):
        if not self.corpus_ids:
            raise ConfigError("noise=random: no corpus ids were prepared")
        rng = self.rng(query)
        pool = self.corpus_ids
        picked: list[str] = []
        while len(picked) < n and len(picked) < len(pool) - len(banned):
            doc = pool[rng.randrange(len(pool))]
            if doc not in banned and doc not in picked:
                picked.append(doc)
        return picked


class HardNoise(ContextNoise):
    def choose(self, query, candidates, n, banned):
        return candidates[:n]


class CounterfactualNoise(ContextNoise):
    def choose(self, query, candidates, n, banned):
        own = list(getattr(query, "counterfactual_doc_ids", ()) or ())
        if not own and n:
            raise ConfigError(f"noise=counterfactual: query {query.query_id} has no counterfactual passages; "
                              "this dataset has none (use a QA JSONL with 'counterfactuals')")
        rest = [c for c in candidates if c not in own]
        return (own + rest)[:n]


class RetrievedContext(ContextNoise):
    """End-to-end: the top k of the ranking, gold or not; ratio and position are ignored."""

    raw_candidates: ClassVar[bool] = True

    def inject(self, query, passages, candidates):
        return list(candidates)[: self.config.k]


@hookimpl
def harness_add_noise_injectors():
    return {"random": RandomNoise, "hard": HardNoise, "counterfactual": CounterfactualNoise,
            "retrieved": RetrievedContext}
