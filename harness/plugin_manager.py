"""The plugin-manager factory (pluggy's host pattern: no global built at import)."""

from __future__ import annotations

import difflib
import functools
import importlib
import logging
import os
import reprlib
from importlib.metadata import entry_points
from typing import Any, Iterable, Mapping

import pluggy

from harness import hookspecs
from harness.builtins import BUILTIN_PLUGINS, LEGACY_NAMES
from harness.errors import PluginError

ENTRY_POINT_GROUP = "harness.plugins"
logger = logging.getLogger(__name__)


def blocked_from_env() -> list[str]:
    return [name.strip() for name in os.environ.get("HARNESS_BLOCK_PLUGINS", "").split(",") if name.strip()]


class HarnessPluginManager(pluggy.PluginManager):
    """pluggy's manager with what the harness records about each plugin while loading them."""

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.harness_failed: dict[str, str] = {}  # plugin name -> error text
        self.harness_dists: dict[str, str] = {}  # plugin name -> "distribution version" (for `harness plugins list`)
        self.harness_skipped: list[str] = []  # messages about plugins skipped for a name already taken
        self.harness_tracing = False


def get_plugin_manager(
    blocked: Iterable[str] = (), entry_point_plugins: bool = True, extra_plugins: Iterable[object] = ()
) -> HarnessPluginManager:
    """Build a plugin manager: hookspecs, installed plugins, then built-ins.

    A plugin that fails to import is reported (named, with its error) and
    skipped while the rest still load; ``pm.harness_failed`` keeps the list.
    A hook implementation whose name matches no hook is an error.
    """
    pm = HarnessPluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in [*blocked, *blocked_from_env()]:
        for each in (name, *LEGACY_NAMES.get(name, ())):  # an earlier built-in's name blocks its modules
            pm.set_blocked(each)
    if entry_point_plugins:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            _register(pm, ep.name, ep.load, f"entry point {ep.value}", _dist_label(ep))
    for name, module in BUILTIN_PLUGINS.items():
        _register(pm, name, lambda module=module: importlib.import_module(module), module, _harness_dist())
    for plugin in extra_plugins:
        registered = pm.register(plugin)
        if registered is not None:  # None: blocked
            pm.harness_dists[registered] = "(registered from code)"
    _check_pending(pm)
    pm.harness_tracing = bool(os.environ.get("HARNESS_TRACE_HOOKS"))
    if pm.harness_tracing:
        pm.trace.root.setwriter(lambda message: logger.info("hook trace: %s", message.rstrip()))
        pm.enable_tracing()
    return pm


def call_each(
    pm: pluggy.PluginManager, hook_name: str, faults: dict[str, list[str]] | None = None, **kwargs
) -> list[tuple[str, Any]]:
    """(plugin name, result) of each implementation of a hook, called one by one.

    Every call goes through here rather than ``pm.hook``, so that a plugin whose
    hook raises, or returns what the hookspec does not promise, is named with
    its distribution: a PluginError, or with ``faults`` given, a message filed
    under the plugin's name while the other plugins' results still come back
    (for ``harness plugins list``). Traced like ``pm.hook`` calls when tracing is on.
    The results are typed ``Any``: their shape is checked here, at run time, by the hookspec's promise.
    """
    results = []
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        try:
            result = impl.function(**{name: kwargs[name] for name in impl.argnames})
        except Exception as exc:  # a plugin's bug: named, never a traceback through the harness
            report_fault(pm, impl.plugin_name, f"hook {hook_name} raised {type(exc).__name__}: {exc}", faults)
            continue
        if getattr(pm, "harness_tracing", False):
            logger.info("hook trace: %s [plugin %s] -> %r", hook_name, impl.plugin_name, result)
        problem = _result_problem(hook_name, result)
        if problem:
            report_fault(pm, impl.plugin_name, f"hook {hook_name} returned {reprlib.repr(result)}{problem}", faults)
            continue
        results.append((impl.plugin_name, result))
    return results


def plugin_label(pm: pluggy.PluginManager, name: str) -> str:
    """``plugin 'x' (its-distribution 1.0)``: how every plugin error names a plugin."""
    dist = getattr(pm, "harness_dists", {}).get(name, "unknown distribution")
    return f"plugin '{name}' ({dist.strip('()')})"


def report_fault(pm: pluggy.PluginManager, plugin: str, what: str, faults: dict[str, list[str]] | None) -> None:
    """Raise a PluginError naming the plugin and its distribution, or file it in ``faults``."""
    message = f"{plugin_label(pm, plugin)}: {what}"
    if faults is None:
        raise PluginError(message)
    logger.warning("%s", message)
    faults.setdefault(plugin, []).append(message)


def _result_problem(hook_name: str, result: object) -> str | None:
    """What is wrong with a hook's result, by the promise of its hookspec (None: nothing, or no promise)."""
    if result is None:
        return None  # "nothing to add" is always fine
    kind = type(result).__name__
    if hook_name.startswith("harness_add_"):
        if not isinstance(result, Mapping):
            return f" ({kind}), not a mapping of component name -> class"
        for name, cls in result.items():
            if not (isinstance(name, str) and name):
                return f": the name {name!r} ({type(name).__name__}) is not a non-empty string"
            if not isinstance(cls, type):
                return f": '{name}' is {cls!r} ({type(cls).__name__}), not a class"
    elif hook_name in ("harness_register_datasets", "harness_config_dirs"):
        if not (isinstance(result, (list, tuple)) and all(isinstance(item, str) for item in result)):
            return f" ({kind}), not a list of strings"
    return None


def _dist_label(ep) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.metadata['Name']} {dist.version}" if dist is not None else "(unknown distribution)"


@functools.lru_cache(maxsize=1)
def _harness_dist() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"ir-rag-harness {version('ir-rag-harness')}"
    except PackageNotFoundError:  # a source tree that is not installed
        return "ir-rag-harness (source tree)"


def _register(pm: HarnessPluginManager, name: str, load, where: str, dist: str) -> None:
    if pm.is_blocked(name):
        return
    if name in pm.harness_dists:  # two distributions (or one and a built-in) claim one plugin name
        message = (
            f"plugin '{name}' of {dist} ({where}) was skipped: the name is taken by "
            f"{pm.harness_dists[name]}; rename one entry point, or block the other"
        )
        pm.harness_skipped.append(message)
        logger.warning("%s", message)
        return
    pm.harness_dists[name] = dist
    try:
        plugin = load()
    except Exception as exc:  # a broken plugin must not take the others down
        pm.harness_failed[name] = f"{type(exc).__name__}: {exc}"
        logger.warning(
            "plugin '%s' (%s, %s) failed to import and was skipped: %s: %s", name, dist, where, type(exc).__name__, exc
        )
        return
    pm.register(plugin, name=name)


def _check_pending(pm: HarnessPluginManager) -> None:
    known = [name for name in dir(hookspecs) if name.startswith("harness_")]
    for hook_name in dir(pm.hook):
        if hook_name.startswith("_"):
            continue
        caller = getattr(pm.hook, hook_name)
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            close = difflib.get_close_matches(hook_name, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known hooks: {', '.join(known)}"
            raise PluginError(f"{plugin_label(pm, impl.plugin_name)} implements unknown hook '{hook_name}'{hint}")
