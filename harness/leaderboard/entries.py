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

    def noise_curves(self) -> dict[str, list[tuple[float, float]]]:
        """measure -> [(rho, value), ...] sorted by rho, from metrics named like noise points."""
        curves: dict[str, list[tuple[float, float]]] = {}
        for name, value in {**self.extra, **self.mean}.items():
            found = NOISE_POINT.match(name)
            if found:
                curves.setdefault(found["measure"], []).append((float(found["rho"]), value))
        return {measure: sorted(points) for measure, points in curves.items()}


def unique_names(entries: list[Entry]) -> list[Entry]:
    """Suffix the source to names that occur more than once, so every row is addressable."""
    seen: dict[str, int] = {}
    for entry in entries:
        seen[entry.name] = seen.get(entry.name, 0) + 1
    for entry in entries:
        if seen[entry.name] > 1:
            entry.name = f"{entry.name} [{entry.source}]"
    return entries
