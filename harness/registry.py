"""Resolves component names to classes, and builds components from configs."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any, Mapping

import pluggy

from harness import bounds
from harness.components import KIND_ALIASES, KINDS, Component, Context
from harness.errors import ConfigError, UnknownComponentError
from harness.plugin_manager import call_each, plugin_label, report_fault


@dataclass(frozen=True)
class Entry:
    name: str
    cls: type[Component]
    plugin: str


class ComponentRegistry:
    """Every component class registered by the plugins, by kind and name.

    A faulty plugin (a hook that raises or returns something else than a mapping
    of names to component classes, a class of the wrong kind...) is a PluginError
    naming it and its distribution; with ``faults`` given (``harness plugins
    list``), its messages are filed there instead and the other plugins' components
    still register.
    """

    def __init__(self, pm: pluggy.PluginManager, faults: dict[str, list[str]] | None = None):
        self.pm = pm
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
        for kind, row in KINDS.items():
            base = row.base
            for plugin, found in call_each(pm, row.hook, faults):
                for name, cls in dict(found or {}).items():  # checked by call_each
                    problem = self._problem(kind, base, name, cls)
                    if problem:
                        report_fault(pm, plugin, problem, faults)
                    else:
                        self._entries[kind][name] = Entry(name, cls, plugin)

    def _problem(self, kind: str, base: type[Component], name: str, cls: Any) -> str | None:
        what = f"{kind} '{name}' ({_qualified(cls)})"
        if name in self._entries[kind]:
            other = self._entries[kind][name]
            return (
                f"registers {what}, a name already registered by {plugin_label(self.pm, other.plugin)} "
                f"for {_qualified(other.cls)}; block one with plugins.blocked=[...]"
            )
        if not issubclass(cls, base):
            return f"registers {what}, which is not a subclass of {base.__module__}.{base.__name__}"
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(vars(cls)["__abstractmethods__"]))
            return f"registers {what}, which does not implement the required method(s): {missing}"
        if not dataclasses.is_dataclass(cls.Config):
            return f"registers {what}, whose Config is not a dataclass"
        return None

    def names(self, kind: str) -> list[str]:
        return sorted(self._entries[KIND_ALIASES.get(kind, kind)])

    def entries(self, kind: str) -> list[Entry]:
        return [self._entries[kind][name] for name in self.names(kind)]

    def get(self, kind: str, name: str) -> Entry:
        kind = KIND_ALIASES.get(kind, kind)
        if kind not in self._entries:
            raise UnknownComponentError(f"unknown component kind '{kind}'; kinds: {', '.join(KINDS)}")
        if name not in self._entries[kind]:
            known = ", ".join(self.names(kind)) or "(none registered)"
            raise UnknownComponentError(f"unknown {kind} '{name}'; registered {KINDS[kind].plural}: {known}")
        return self._entries[kind][name]

    def create(self, kind: str, config: Mapping[str, Any], context: Context, where: str = "") -> Component:
        """Build a component from its config group: ``name`` picks the class, the rest is its Config."""
        kind = KIND_ALIASES.get(kind, kind)
        where = where or kind
        values = dict(config)
        name = values.pop("name", None)
        if not name:
            raise ConfigError(f"{where}: missing key 'name' (which {kind} to use; registered: {', '.join(self.names(kind))})")
        entry = self.get(kind, name)
        component = entry.cls(build_config(entry.cls.Config, values, f"{where} ({kind} '{name}')"), context)
        component.name = name
        return component


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def build_config(schema: type, values: Mapping[str, Any], where: str) -> Any:
    """Validate ``values`` against the dataclass ``schema``: wrong keys, types or out-of-bounds values name the key."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    fields = {f.name for f in dataclasses.fields(schema)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; valid keys: {', '.join(sorted(fields)) or '(none)'}"
        )
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), values)
        config = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", "") or ""
        message = getattr(exc, "msg", str(exc)).splitlines()[0]
        raise ConfigError(f"{where}: key '{key}': {message}") from None
    bounds.check(config, where)
    return config
