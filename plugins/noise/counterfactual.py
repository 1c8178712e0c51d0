"""``noise=counterfactual``: the question's counterfactual passages (data that has them),
then hard negatives if it has fewer than needed."""

from __future__ import annotations

from harness.errors import ConfigError
from harness.hookspecs import hookimpl
from harness_plugins.noise._common import ContextNoise


class CounterfactualNoise(ContextNoise):
    draws_counterfactuals = True

    def choose(self, query, candidates, n, banned):
        own = list(getattr(query, "counterfactual_doc_ids", ()) or ())
        if not own and n:
            raise ConfigError(
                f"noise=counterfactual: query {query.query_id} has no counterfactual passages; "
                "this dataset has none (use a QA JSONL with 'counterfactuals')"
            )
        rest = [c for c in candidates if c not in own]
        return (own + rest)[:n]


@hookimpl
def harness_add_noise_injectors():
    return {"counterfactual": CounterfactualNoise}
