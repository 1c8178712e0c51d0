"""One leaderboard entry: a system's scores on one dataset, and what it cost."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

# A metric named '<measure>@rho=<ratio>' (MLflow: '<measure>_at_rho_<ratio>')
# is one point of a noise curve.
NOISE_POINT = re.compile(r"^(?P<measure>.+?)(?:@rho=|_at_rho_)(?P<rho>[0-9.]+)$")


@dataclass
class Entry:
    name: str
    source: str  # e.g. "mlflow:<experiment>" or "run file:<path>"
    dataset: str
    mean: dict[str, float]  # metric -> mean over queries
    per_query: dict[str, dict[str, float]]  # metric -> query_id -> value
    latency: Optional[float] = None  # seconds (a latency metric, else the run's wall time)
    trainable_params: Optional[float] = None
    extra: dict[str, float] = field(default_factory=dict)  # other tracked metrics
    tags: dict[str, str] = field(default_factory=dict)
    relevance_level: Optional[int] = None  # the binary relevance level it was evaluated at
    params: dict[str, str] = field(default_factory=dict)  # the run's flattened config
    run_id: str = ""  # the MLflow run id, for tracked runs
    stage: Optional[str] = None  # the first stage this entry is (see names.first_stage_key), if it is one
    upstream: Optional[str] = None  # the first stage this entry builds on (reranks, generates from)
    top: dict[str, list[str]] = field(default_factory=dict)  # query -> its top-10 document ids
    judged: dict[str, float] = field(default_factory=dict)  # query -> judged@10 (empty: not known)

    def noise_curves(self) -> dict[str, list[tuple[float, float]]]:
        """measure -> [(rho, value), ...] sorted by rho, from metrics named like noise points."""
        curves: dict[str, list[tuple[float, float]]] = {}
        for name, value in {**self.extra, **self.mean}.items():
            found = NOISE_POINT.match(name)
            if found:
                curves.setdefault(found["measure"], []).append((float(found["rho"]), value))
        return {measure: sorted(points) for measure, points in curves.items()}


def unique_names(entries: list[Entry]) -> list[Entry]:
    """Names that occur more than once get the params that tell them apart, then their source, then a
    number, so every row is addressable."""
    for name in sorted({e.name for e in entries}):
        group = [e for e in entries if e.name == name]
        if len(group) > 1:
            label_differences(group)
    for suffix in (lambda entry, n: f" [{entry.source}]", lambda entry, n: f" #{n}"):
        counts: dict[str, int] = {}
        for entry in entries:
            counts[entry.name] = counts.get(entry.name, 0) + 1
        seen: dict[str, int] = {}
        for entry in entries:
            if counts[entry.name] > 1:
                seen[entry.name] = seen.get(entry.name, 0) + 1
                entry.name += suffix(entry, seen[entry.name])
    return entries


# Params that say where or how a run was recorded, not what it is.
NOT_DISTINGUISHING = (
    "results_dir",
    "cache_dir",
    "run_name",
    "experiment_name",
    "show_progress",
    "use_cache",
    "resume",
    "tracking.",
    "data_root",
    "device",
    "plugins.",
)


def label_differences(entries: list[Entry], most: int = 3) -> list[Entry]:
    """Append the params that differ between entries (``bm25 [retriever.k1=1.2]``): a sweep's names say
    what was swept."""
    keys = sorted({k for e in entries for k in e.params if not k.startswith(NOT_DISTINGUISHING)})
    varying = [k for k in keys if len({e.params.get(k) for e in entries}) > 1][:most]
    for entry in entries:
        shown = [f"{k}={entry.params[k]}" for k in varying if k in entry.params]
        if shown:
            entry.name = f"{entry.name} [{', '.join(shown)}]"
    return entries
