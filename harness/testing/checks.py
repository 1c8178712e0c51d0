"""The contract checks: each raises ContractError with a message that says what to fix."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import random
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.cache import StageCache, stable_hash
from harness.components import KIND_ALIASES, KINDS, Component, Context
from harness.errors import HarnessError
from harness.testing.compare import comparable, differs, not_json, shape_problem
from harness.testing.kinds import ADAPTERS

# What a clear error on bad input may be: the harness's own errors, or the
# standard "you passed the wrong thing" ones. AttributeError or KeyError from
# deep inside a component is a crash, not an error message.
CLEAR_ERRORS = (HarnessError, ValueError, TypeError)


class ContractError(AssertionError):
    """A component breaks the plugin contract."""


def build(cls: type[Any], config: Mapping[str, Any] | None = None, seed: int = 0, cache_root: Path | None = None) -> Component:
    """Build ``cls`` as the registry would: ``config`` validated against ``cls.Config``, a fresh context."""
    from harness.registry import build_config

    root = cache_root or Path(tempfile.mkdtemp(dir=_scratch().name))
    context = Context(
        cache=StageCache(root / "cache"),
        dataset_id="toy",
        data_root=str(root),
        results_dir=root / "results",
        device="cpu",
        seed=seed,
        show_progress=False,
    )
    component = cls(build_config(cls.Config, dict(config or {}), f"{cls.__qualname__} config"), context)
    component.name = component.name or cls.__name__.lower()
    return component


@functools.lru_cache(maxsize=1)
def _scratch() -> tempfile.TemporaryDirectory:
    """One scratch folder per process for the components' caches, removed at exit."""
    return tempfile.TemporaryDirectory(prefix="harness-contract-")


def kind_of(cls: type[Any]) -> str:
    kind = KIND_ALIASES.get(getattr(cls, "kind", ""), getattr(cls, "kind", ""))
    if kind not in KINDS:
        raise ContractError(
            f"{_label(cls)} is not a component: subclass one of "
            + ", ".join(f"harness.components.{row.base.__name__}" for row in KINDS.values())
        )
    return kind


def check_interface(cls: type[Any], config: Mapping[str, Any] | None = None, registered_as: str | None = None) -> None:
    """Subclass of a kind's base, every abstract verb implemented with the base's parameters,
    a dataclass Config whose fields carry help text, and output of the kind's shape."""
    kind = kind_of(cls)
    base: type[Any] = KINDS[kind].base
    if inspect.isabstract(cls):
        raise ContractError(
            f"{_label(cls)} does not implement the required method(s): " + ", ".join(sorted(cls.__abstractmethods__))
        )
    for verb in sorted(base.__abstractmethods__):
        want = list(inspect.signature(getattr(base, verb)).parameters)
        got = list(inspect.signature(getattr(cls, verb)).parameters)
        if got != want:
            raise ContractError(
                f"{_label(cls)}.{verb}({', '.join(got[1:])}) must take the parameters of "
                f"{base.__name__}.{verb}({', '.join(want[1:])})"
            )
    if not dataclasses.is_dataclass(cls.Config):
        raise ContractError(f"{_label(cls)}.Config must be a dataclass")
    for field in dataclasses.fields(cls.Config):
        if not field.metadata.get("help"):
            raise ContractError(
                f"{_label(cls)}.Config field '{field.name}' has no help text: "
                "declare it with harness.components.option(default, help=...)"
            )
    if registered_as is not None:
        _check_registered(cls, kind, registered_as)
    if kind in ADAPTERS:
        _check_output(kind, ADAPTERS[kind], build(cls, config), cls)


def check_determinism(cls: type, config: Mapping[str, Any] | None = None, seed: int = 13) -> None:
    """Two instances built with one seed give one output, whatever the global RNGs hold."""
    adapter = _adapter(cls)
    outputs = []
    for scramble in (1, 2):
        _scramble_global_rngs(scramble)
        outputs.append(comparable(adapter.call(build(cls, config, seed=seed), adapter.inputs())))
    where = differs(outputs[0], outputs[1])
    if where is not None:
        raise ContractError(
            f"{_label(cls)} is not deterministic under seed {seed}: two runs differ at {where}; "
            "draw randomness from a generator seeded with self.context.seed, not a global one"
        )


def check_batching_invariance(cls: type, config: Mapping[str, Any] | None = None) -> None:
    """The whole batch gives what its items give one at a time."""
    adapter = _adapter(cls)
    if adapter.split is None:
        return  # the verb takes one item at a time (noise, peft): nothing to batch
    component = build(cls, config)
    inputs = adapter.inputs()
    whole = comparable(adapter.call(component, inputs))
    pieces = comparable(adapter.merge([adapter.call(component, part) for part in adapter.split(inputs)]))
    where = differs(whole, pieces)
    if where is not None:
        raise ContractError(
            f"{_label(cls)} is not batching-invariant: the batch and its items one at a time "
            f"differ at {where}; an item's output must not depend on the others in its batch"
        )


def check_cache_key_stability(cls: type, config: Mapping[str, Any] | None = None, ignores: Iterable[str] = ()) -> None:
    """cache_payload() is plain JSON, equal across instances, unchanged by running, and sees every option."""
    first, second = build(cls, config), build(cls, config)
    payload = first.cache_payload()
    where = not_json(payload, "cache_payload()")
    if where:
        raise ContractError(
            f"{_label(cls)}.cache_payload() holds {where}, whose text differs between "
            "processes; give plain JSON values (str, number, bool, None, list, dict)"
        )
    key = stable_hash(payload)
    if stable_hash(second.cache_payload()) != key:
        raise ContractError(f"{_label(cls)}.cache_payload() differs between two instances of one config")
    adapter = ADAPTERS.get(first.kind)
    if adapter is not None:
        adapter.call(first, adapter.inputs())
        if stable_hash(first.cache_payload()) != key:
            raise ContractError(
                f"{_label(cls)}.cache_payload() changed after running; the cache key must "
                "depend on the config only, not on state the component builds up"
            )
    ignored = set(ignores)
    for field, changed in _perturbed(first.config):
        if field in ignored:
            continue
        try:
            other = _with(cls, config, field, changed)
        except HarnessError:
            continue  # the changed value is not a valid config: nothing to compare
        if stable_hash(other.cache_payload()) == key:
            raise ContractError(
                f"{_label(cls)}.cache_payload() ignores option '{field}': changing it would "
                "serve stale cached results; include it, or list it in cache_ignores"
            )


def check_errors(cls: type, config: Mapping[str, Any] | None = None) -> None:
    """Empty input gives an empty result (or a clear error); malformed input gives a clear error."""
    adapter = _adapter(cls)
    inputs = adapter.inputs()
    try:
        result = adapter.call(build(cls, config), adapter.empty(inputs))
    except HarnessError:
        result = None
    except Exception as exc:
        raise ContractError(
            f"{_label(cls)} crashed on empty input with {type(exc).__name__}: {exc}; "
            "return an empty result or raise a harness.errors.HarnessError"
        ) from exc
    if result is not None and hasattr(result, "__len__") and len(result):
        raise ContractError(f"{_label(cls)} returned {result!r} for empty input; expected an empty result")
    try:
        adapter.call(build(cls, config), adapter.malformed(inputs))
    except CLEAR_ERRORS as exc:
        if not str(exc):
            raise ContractError(
                f"{_label(cls)} raised {type(exc).__name__} without a message on malformed input; say what is wrong"
            ) from exc
        return
    except Exception as exc:
        raise ContractError(
            f"{_label(cls)} crashed on malformed input with {type(exc).__name__}: {exc}; "
            "check the input and raise a harness.errors.HarnessError that says what is wrong"
        ) from exc
    raise ContractError(
        f"{_label(cls)} accepted malformed input without an error; check it and raise "
        "a harness.errors.HarnessError that says what is wrong"
    )


def check_all(
    cls: type, config: Mapping[str, Any] | None = None, registered_as: str | None = None, cache_ignores: Iterable[str] = ()
) -> None:
    check_interface(cls, config, registered_as)
    check_determinism(cls, config)
    check_batching_invariance(cls, config)
    check_cache_key_stability(cls, config, cache_ignores)
    check_errors(cls, config)


def _label(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _adapter(cls: type):
    kind = kind_of(cls)
    if kind not in ADAPTERS:
        raise ContractError(f"the contract kit has no behavioural checks for {kind}s; use check_interface")
    return ADAPTERS[kind]


def _check_registered(cls: type, kind: str, name: str) -> None:
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry

    registry = ComponentRegistry(get_plugin_manager())
    if name not in registry.names(kind):
        raise ContractError(
            f"no installed plugin registers {kind} '{name}' (registered: "
            f"{', '.join(registry.names(kind))}); is the package installed with its "
            "harness.plugins entry point?"
        )
    if registry.get(kind, name).cls is not cls:
        raise ContractError(f"{kind} '{name}' is registered as {_label(registry.get(kind, name).cls)}, not {_label(cls)}")


def _check_output(kind: str, adapter, component: Component, cls: type) -> None:
    inputs = adapter.inputs()
    result = adapter.call(component, inputs)
    problem = shape_problem(kind, result, inputs)
    if problem:
        raise ContractError(f"{_label(cls)} returned the wrong shape: {problem}")


def _scramble_global_rngs(state: int) -> None:
    random.seed(state * 7919)
    try:
        import numpy

        numpy.random.seed(state * 7919)
    except ImportError:
        pass
    import torch

    torch.manual_seed(state * 7919)


def _perturbed(config: Any):
    """(field, a different valid value) for each simple option of a config dataclass."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if isinstance(value, bool):
            yield field.name, not value
        elif isinstance(value, (int, float)):
            yield field.name, value * 2 + 1
        elif isinstance(value, str):
            yield field.name, value + "-changed"


def _with(cls: type, config: Mapping[str, Any] | None, field: str, value: Any) -> Component:
    return build(cls, {**dict(config or {}), field: value})
