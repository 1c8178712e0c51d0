"""Near misses in ``harness run``'s overrides, caught before Hydra composes, with a "did you mean".

Hydra's own message for ``reranker=cross_encodr`` lists the group's options without saying which
one was meant, and for a nested group lists only its top level
(``dataset=msmarco-passage-mini/trec-dl-2021`` shows ``files, ir_datasets, qa-jsonl``). Here a
missing option is an error listing every option of its group, nested ones included, the closest
first. A misspelled top-level key (``datset=...``, also with ``+``, which Hydra would accept
silently) and a key no option of its group has (``retriever.k11=2``) get the same treatment.
What this cannot judge (globs, Hydra's own keys, a key with no near match) is left to Hydra.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.errors import ConfigError


def check_overrides(overrides: list[str], conf_dir: Path) -> None:
    """Raise :class:`ConfigError` for an override naming an option or key that does not exist."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException:
        return  # a syntax error: Hydra's own message says where
    repo = _repository(conf_dir, _search_path(parsed))
    groups = _top_groups(repo)
    for override in parsed:
        key = override.key_or_group
        if key.split(".")[0].split("/")[0] == "hydra" or override.is_delete():
            continue
        if key in groups and "." not in key:
            _check_option(repo, key, override)
        elif "." not in key and "/" not in key:
            _check_top_key(override, key, groups)
        elif key.count(".") == 1 and key.split(".")[0] in groups - {"experiment"} and not _adds(override):
            _check_group_key(repo, override, *key.split("."))


def group_options(repo: Any, group: str) -> list[str]:
    """Every option of a config group, nested ones as ``sub/option`` (``msmarco-passage-mini/trec-dl-2019``)."""
    from hydra.core.object_type import ObjectType

    found = list(repo.get_group_options(group, ObjectType.CONFIG))
    for sub in repo.get_group_options(group, ObjectType.GROUP):
        found += [f"{sub}/{option}" for option in group_options(repo, f"{group}/{sub}")]
    return sorted(found)


def did_you_mean(word: str, known: Iterable[str], prefix: str = "") -> str:
    """``"; did you mean X?"`` for the closest match of ``word`` (``X or Y`` for a near tie), else ``""``."""
    scored = sorted(((difflib.SequenceMatcher(None, word, k).ratio(), k) for k in set(known)), reverse=True)
    close = [k for score, k in scored if score >= 0.6 and score >= scored[0][0] - 0.05][:3]
    return f"; did you mean {' or '.join(prefix + c for c in close)}?" if close else ""


# Hydra's flags that take a value (``--cfg job``); ``--info`` takes one only from its own list.
_VALUED_FLAGS = {
    "--cfg",
    "-c",
    "--package",
    "-p",
    "--config-path",
    "-cp",
    "--config-name",
    "-cn",
    "--config-dir",
    "-cd",
    "--experimental-rerun",
}
_INFO_VALUES = {"all", "config", "defaults", "defaults-tree", "plugins", "searchpath"}


def split_flags(args: list[str]) -> tuple[list[str], list[str]]:
    """``harness run``'s arguments as (Hydra's flags with their values, the overrides), in their order.

    Hydra's argparse takes the overrides as one run of positionals: put back together after the
    flags, an override after ``--cfg job`` or ``-m`` is not refused as unrecognised."""
    flags: list[str] = []
    overrides: list[str] = []
    take_value = False
    for arg in args:
        if take_value:
            flags.append(arg)
            take_value = False
        elif arg.startswith("-"):
            flags.append(arg)
            take_value = arg in _VALUED_FLAGS
        elif flags and flags[-1] == "--info" and arg in _INFO_VALUES:
            flags.append(arg)
        else:
            overrides.append(arg)
    return flags, overrides


def _check_option(repo: Any, group: str, override: Any) -> None:
    if override.value_type is not None and override.value_type.name == "GLOB_CHOICE_SWEEP":
        return
    options = group_options(repo, group)
    for value in _values(override):
        if value not in (None, "null") and not repo.config_exists(f"{group}/{value}"):
            raise ConfigError(
                f"{group}={value}: no such option in config group '{group}'"
                f"{did_you_mean(value, options)}\n  options: {', '.join(options)}"
            )


def _check_top_key(override: Any, key: str, groups: set[str]) -> None:
    from harness.config import RunConfig

    known = {f.name for f in dataclasses.fields(RunConfig)} | groups
    if key not in known:
        raise ConfigError(
            f"{override.input_line}: unknown top-level key '{key}'{did_you_mean(key, known)}\n"
            f"  keys: {', '.join(sorted(known - {'hydra'}))}"
        )


def _check_group_key(repo: Any, override: Any, group: str, key: str) -> None:
    known = _group_keys(repo, group)
    if key in known:
        return
    hint = did_you_mean(key, known, prefix=f"{group}.")
    if hint:  # no near match: Hydra's message (which suggests '+' for a Config key the yaml leaves out) stands
        raise ConfigError(f"{override.input_line}: no option of config group '{group}' has the key '{key}'{hint}")


def _group_keys(repo: Any, group: str) -> set[str]:
    """The keys any option of the group, or any experiment file, sets (for ``dataset``, its schema's too)."""
    from harness.config import DatasetConfig, FilesDatasetConfig

    keys = {"name"}
    for option in group_options(repo, group):
        keys |= _keys(repo, f"{group}/{option}")
    for experiment in group_options(repo, "experiment"):  # @package _global_: may set a group's keys
        keys |= _keys(repo, f"experiment/{experiment}", group)
    if group == "dataset":
        keys |= {f.name for cls in (DatasetConfig, FilesDatasetConfig) for f in dataclasses.fields(cls)}
    return keys


def _keys(repo: Any, config_path: str, under: str | None = None) -> set[str]:
    """The keys a config file sets (at its top, or in its mapping ``under``)."""
    from omegaconf import DictConfig

    loaded = repo.load_config(config_path)
    config = loaded.config if loaded is not None else None
    if isinstance(config, DictConfig) and under is not None:
        config = config.get(under)
    return {str(k) for k in config.keys()} if isinstance(config, DictConfig) else set()


def _values(override: Any) -> list[Any]:
    if override.is_sweep_override():
        return list(override.sweep_string_iterator())
    value = override.value()
    return [value] if value is None or isinstance(value, str) else []


def _adds(override: Any) -> bool:
    return bool(override.is_add() or override.is_force_add())


def _search_path(parsed: list[Any]) -> list[str]:
    """The folders a ``hydra.searchpath=[...]`` override adds (plugins' config folders)."""
    for override in parsed:
        if override.key_or_group == "hydra.searchpath" and isinstance(override.value(), list):
            return [str(p) for p in override.value()]
    return []


def _repository(conf_dir: Path, extra: list[str]) -> Any:
    from hydra._internal.config_repository import ConfigRepository
    from hydra._internal.utils import create_config_search_path

    search_path = create_config_search_path(str(conf_dir))
    for path in extra:
        search_path.append("harness-plugins", path)
    return ConfigRepository(config_search_path=search_path)


def _top_groups(repo: Any) -> set[str]:
    from hydra.core.object_type import ObjectType

    return set(repo.get_group_options("", ObjectType.GROUP))
