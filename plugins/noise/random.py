"""``noise=random``: passages drawn uniformly from the corpus (never a gold one)."""

from __future__ import annotations

from harness.errors import ConfigError
from harness.hookspecs import hookimpl
from harness_plugins.noise._common import ContextNoise


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


@hookimpl
def harness_add_noise_injectors():
    return {"random": RandomNoise}
