"""Bounds and choices that config fields declare beside their help text.

A field declares them through :func:`harness.components.option` (``ge=0``,
``choices=(...)``, ``items=Bounds(...)`` for the values of a list); they live
in the field's metadata, so ``harness plugins list -v`` shows them and the
registry checks them after Hydra/OmegaConf have converted the types. ``None``
passes every bound: whether a field may be null is its type's business
(``Optional[int]``), which OmegaConf already enforces.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional

from harness.errors import ConfigError

METADATA_KEY = "bounds"


@dataclass(frozen=True)
class Bounds:
    """What values a field accepts: numeric limits, a set of choices, per-item bounds of a list."""

    ge: Optional[float] = None
    gt: Optional[float] = None
    le: Optional[float] = None
    lt: Optional[float] = None
    choices: Optional[tuple] = None
    items: Optional["Bounds"] = None
    min_items: Optional[int] = None

    def describe(self) -> str:
        """``>= 0``, ``in [0, 1)``, ``one of a, b``, ``each >= 1; at least 1 item``..."""
        parts = [self._range()] if self._range() else []
        if self.choices is not None:
            parts.append("one of " + ", ".join(map(str, self.choices)))
        if self.items is not None:
            parts.append(f"each {self.items.describe()}")
        if self.min_items:
            parts.append(f"at least {self.min_items} item{'s' if self.min_items > 1 else ''}")
        return "; ".join(parts)

    def violation(self, value: Any) -> Optional[str]:
        """Why ``value`` is not accepted, or None if it is."""
        if value is None:
            return None
        if self.choices is not None and value not in self.choices:
            return f"{value!r} is not one of {', '.join(map(str, self.choices))}"
        if self._range() and not self._in_range(value):
            return f"{value!r} is out of range (must be {self._range()})"
        if (self.items is not None or self.min_items is not None) and not isinstance(value, (list, tuple)):
            return f"{value!r} is not a list"
        if self.min_items is not None and len(value) < self.min_items:
            return f"{list(value)!r} has {len(value)} item(s) (must have at least {self.min_items})"
        if self.items is not None:
            for position, item in enumerate(value):
                problem = self.items.violation(item)
                if problem:
                    return f"item {position}: {problem}"
        return None

    def _in_range(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            return False
        return (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
        )

    def _range(self) -> str:
        low = f"[{_number(self.ge)}" if self.ge is not None else f"({_number(self.gt)}" if self.gt is not None else None
        high = f"{_number(self.le)}]" if self.le is not None else f"{_number(self.lt)})" if self.lt is not None else None
        if low and high:
            return f"in {low}, {high}"
        if low:
            return f"{'>=' if self.ge is not None else '>'} {low[1:]}"
        if high:
            return f"{'<=' if self.le is not None else '<'} {high[:-1]}"
        return ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def of(field: dataclasses.Field) -> Optional[Bounds]:
    """The bounds a dataclass field declares, if any."""
    return field.metadata.get(METADATA_KEY)


def violations(schema: type, values: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, problem) for each field of ``values`` (a dataclass instance or a mapping) out of bounds.

    Fields whose type is itself a dataclass are checked recursively, so one call
    covers a nested schema such as the top-level run config.
    """
    hints = typing.get_type_hints(schema)
    for f in dataclasses.fields(schema):
        value = values.get(f.name) if isinstance(values, Mapping) else getattr(values, f.name, None)
        nested = hints.get(f.name)
        nested = nested if isinstance(nested, type) and dataclasses.is_dataclass(nested) else None
        if nested is not None and value is not None:
            yield from violations(nested, value, f"{prefix}{f.name}.")
            continue
        bounds = of(f)
        problem = bounds.violation(value) if bounds else None
        if problem:
            yield f"{prefix}{f.name}", problem


def check(config: Any, where: str, schema: type | None = None) -> None:
    """Raise a ConfigError naming ``where`` and the key for the first field of ``config`` out of bounds."""
    for key, problem in violations(schema or type(config), config):
        raise ConfigError(f"{where}: key '{key}': {problem}")
