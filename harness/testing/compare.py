"""Comparing component outputs: plain values, tolerant float equality, JSON-ness, shapes per kind."""

from __future__ import annotations

import json
import math
from typing import Any


def shape_problem(kind: str, result: Any, inputs: tuple) -> str | None:
    if kind in ("retriever", "reranker"):
        if not isinstance(result, dict) or not all(isinstance(d, dict) for d in result.values()):
            return f"expected a run {{query_id: {{doc_id: score}}}}, got {type(result).__name__}"
        bad = [
            (q, d, s)
            for q, docs in result.items()
            for d, s in docs.items()
            if not isinstance(s, (int, float)) or isinstance(s, bool)
        ]
        return f"score {bad[0][2]!r} of ({bad[0][0]}, {bad[0][1]}) is not a number" if bad else None
    if kind == "metric":
        ok = isinstance(result, dict) and all(isinstance(v, (int, float)) for v in result.values())
        return None if ok else "expected {query_id: value} with numeric values"
    if kind == "generator":
        ok = isinstance(result, list) and len(result) == len(inputs[0]) and all(isinstance(a, str) for a in result)
        return None if ok else f"expected a list of {len(inputs[0])} answer strings, got {result!r}"
    if kind == "noise":
        return None if isinstance(result, list) else f"expected a list of passages, got {type(result).__name__}"
    return None if result is not None else "apply() must return the model"


def comparable(value: Any) -> Any:
    """Plain Python values (torch modules become their state dicts)."""
    if hasattr(value, "state_dict") and callable(value.state_dict):
        return {k: v.detach().cpu().tolist() for k, v in value.state_dict().items()}
    if hasattr(value, "_asdict"):
        return comparable(value._asdict())
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    return value


def differs(a: Any, b: Any, where: str = "the output") -> str | None:
    """Where two plain values differ (floats within 1e-5 relative), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{where}: keys {sorted(set(a) ^ set(b))[:5]} in only one"
        return next((w for k in sorted(a, key=str) if (w := differs(a[k], b[k], f"{where}[{k!r}]"))), None)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: lengths {len(a)} and {len(b)}"
        return next((w for i, (x, y) in enumerate(zip(a, b)) if (w := differs(x, y, f"{where}[{i}]"))), None)
    if isinstance(a, float) or isinstance(b, float):
        ok = isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-7)
        return None if ok else f"{where}: {a!r} and {b!r}"
    return None if a == b else f"{where}: {a!r} and {b!r}"


def not_json(value: Any, where: str) -> str | None:
    if isinstance(value, dict):
        return next((w for k, v in value.items() if (w := not_json(v, f"{where}[{k!r}]"))), None)
    if isinstance(value, (list, tuple)):
        return next((w for i, v in enumerate(value) if (w := not_json(v, f"{where}[{i}]"))), None)
    if value is None or isinstance(value, (str, int, float, bool)):
        return None
    try:
        json.dumps(value)
        return None
    except TypeError:
        return f"{type(value).__name__} at {where}"
