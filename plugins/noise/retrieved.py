"""``noise=retrieved``: no injection; the first stage's top k as they come (the
end-to-end setting, reported with context precision)."""

from __future__ import annotations

from typing import ClassVar

from harness.hookspecs import hookimpl
from harness_plugins.noise._common import ContextNoise


class RetrievedContext(ContextNoise):
    """End-to-end: the top k of the ranking, gold or not; ratio and position are ignored."""

    raw_candidates: ClassVar[bool] = True

    def inject(self, query, passages, candidates):
        return list(candidates)[: self.config.k]


@hookimpl
def harness_add_noise_injectors():
    return {"retrieved": RetrievedContext}
