"""``noise=hard``: the first stage's top-ranked non-relevant passages, never the question's own
counterfactual passages (those are ``noise=counterfactual``'s)."""

from __future__ import annotations

from harness.hookspecs import hookimpl
from harness_plugins.noise._common import ContextNoise


class HardNoise(ContextNoise):
    def choose(self, query, candidates, n, banned):
        return candidates[:n]


@hookimpl
def harness_add_noise_injectors():
    return {"hard": HardNoise}
