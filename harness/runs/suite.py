"""Suites: one system on each dataset of a suite (``harness run suite=dl``), each an ordinary run.

A suite is an option of the config group ``suite`` (``conf/suite/<name>.yaml``,
or a folder of your own on ``hydra.searchpath``)::

    name: dl
    members:                    # label -> the override(s) that pick its dataset
      dl19: dataset=msmarco-passage-mini/trec-dl-2019
      dl20: [dataset=msmarco-passage-mini/trec-dl-2020, dataset.query_limit=20]

``harness run suite=dl <system overrides>`` composes, for each member, the
config that ``harness run <system overrides> <member overrides>`` composes,
without the suite: each member's run is an ordinary run (its config hash, run
folder, stage-cache entries, MLflow run and resume are those of a plain run on
that dataset, and it is found again by one). Members run in suite order and
resume like a sweep's jobs. ``-m`` sweeps systems as usual, each job running
the whole suite. ``harness leaderboard --suite dl`` aggregates them
(:mod:`harness.reports.leaderboard.suite`).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping, Sequence, cast

from harness.errors import ConfigError

logger = logging.getLogger("harness.suite")
SEARCH_PATH = ("hydra.searchpath", "+hydra.searchpath", "++hydra.searchpath")


@dataclass
class Suite:
    name: str
    members: dict[str, list[str]]  # label -> overrides, in suite order


@dataclass
class Member:
    label: str
    config: dict[str, Any]  # the member's resolved run config
    choices: dict[str, str]  # the config groups' chosen options (Hydra's runtime choices)


def parse(value: Any, choice: str | None = None) -> Suite:
    """The ``suite`` group's value as a Suite, or a ConfigError naming the key."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"suite: expected a mapping with 'name' and 'members', got {value!r}")
    unknown = sorted(set(value) - {"name", "members"})
    if unknown:
        raise ConfigError(f"suite: unknown key(s) {', '.join(map(repr, unknown))}; valid keys: members, name")
    name = value.get("name") or choice
    members = value.get("members")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("suite.name: expected the suite's name (a non-empty string)")
    if not isinstance(members, Mapping) or not members:
        raise ConfigError(
            f"suite={name}: suite.members must map labels to dataset overrides "
            "(e.g. dl19: dataset=msmarco-passage-mini/trec-dl-2019)"
        )
    return Suite(name, {str(label): _overrides(name, str(label), given) for label, given in members.items()})


def _overrides(name: str, label: str, given: Any) -> list[str]:
    overrides = [given] if isinstance(given, str) else given
    where = f"suite={name}: suite.members.{label}"
    if not isinstance(overrides, list) or not overrides or not all(isinstance(o, str) for o in overrides):
        raise ConfigError(f"{where}: expected an override or a list of overrides (dataset=...), got {given!r}")
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if "=" not in override:
            raise ConfigError(f"{where}: {override!r} is not an override KEY=VALUE")
        if key == "suite" or key.startswith("suite."):
            raise ConfigError(f"{where}: {override!r}: a member cannot name a suite")
    if not any(o.split("=", 1)[0].lstrip("+~").startswith("dataset") for o in overrides):
        raise ConfigError(f"{where}: {overrides!r} picks no dataset (give dataset=... or dataset.id=...)")
    return list(overrides)


def system_overrides(task: Sequence[str]) -> list[str]:
    """The command's overrides that apply to every member: all but the suite's own; a dataset choice is an error."""
    kept = []
    for override in task:
        key = override.split("=", 1)[0].lstrip("+~")
        if key == "suite" or key.startswith("suite."):
            continue
        if key == "dataset":
            raise ConfigError(
                f"suite: '{override}' picks a dataset, but the suite's members pick theirs; drop it "
                "(dataset.KEY=VALUE overrides, e.g. dataset.query_limit=5, apply to every member)"
            )
        kept.append(override)
    return kept


def compose(overrides: Sequence[str]) -> tuple[Any, dict[str, str]]:
    """The run config (with its Hydra node) that these overrides compose: inside a running Hydra app
    through its own search path, else from the harness's config folder."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    from harness.config import conf_dir, register_schema

    if HydraConfig.initialized():  # inside a job of harness run: its search path (--config-dir included)
        cfg = hydra_compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
    else:
        register_schema()
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
    from omegaconf import OmegaConf, open_dict

    runtime_choices = cast(dict, OmegaConf.to_container(cfg.hydra.runtime.choices))
    choices = {str(k): str(v) for k, v in runtime_choices.items() if v is not None}
    with open_dict(cfg):
        del cfg["hydra"]  # its sweep paths interpolate job numbers that only a launch sets
    return cfg, choices


def _compose_or_explain(overrides: Sequence[str], where: str):
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        return compose(overrides)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load(name: str, search_path: Sequence[str] = ()) -> Suite:
    """The suite named ``name`` (an option of the ``suite`` group), composed as ``harness run suite=NAME``."""
    cfg, _ = _compose_or_explain([f"suite={name}", *search_path], f"suite={name}")
    from omegaconf import OmegaConf

    return parse(OmegaConf.to_container(cfg.suite, resolve=True), name)


def members(suite: Suite, overrides: Sequence[str], search_path: Sequence[str] = ()) -> list[Member]:
    """Each member's ordinary run config: the system overrides, then the member's, composed without the suite."""
    from omegaconf import OmegaConf

    found = []
    for label, own in suite.members.items():
        cfg, choices = _compose_or_explain([*overrides, *own, *search_path], f"suite={suite.name}: member {label!r}")
        config = cast(dict, OmegaConf.to_container(cfg, resolve=True))
        found.append(Member(label, config, choices))
    named = [m for m in found if m.config.get("run_name")]
    if named:  # every member would write the one folder results/<experiment>/<run_name>
        raise ConfigError(
            f"suite={suite.name}: run_name={named[0].config['run_name']!r} would give every member "
            "one run folder; leave run_name unset (default names carry each run's config hash)"
        )
    return found


def dataset_ids(suite: Suite, search_path: Sequence[str] = ()) -> dict[str, str]:
    """label -> the dataset id each member's run is tagged with."""
    return {m.label: m.config["dataset"]["id"] for m in members(suite, [], search_path)}


def search_path_overrides(hydra_overrides: Sequence[str]) -> list[str]:
    return [o for o in hydra_overrides if o.startswith(SEARCH_PATH)]


def run(suite: Suite, found: Sequence[Member]) -> list[tuple[str, Any]]:
    """Run each member in turn (resumed like a sweep's jobs unless ``resume=false``)."""
    from harness.config import check_run_config
    from harness.pipeline import run_experiment
    from harness.resume import resume_enabled

    results = []
    for number, member in enumerate(found, start=1):
        member.config["resume"] = resume_enabled(member.config.get("resume"), True)
        check_run_config(member.config)
        logger.info(
            "suite=%s: member %d of %d: %s (%s)", suite.name, number, len(found), member.label, member.config["dataset"]["id"]
        )
        results.append((member.label, run_experiment(member.config, choices=member.choices)))
    return results


def summary(suite: Suite, results: Sequence[tuple[str, Any]]) -> str:
    """Each metric on each member and its unweighted mean over the members that have it."""
    metrics = list(dict.fromkeys(m for _, result in results for m in result.metrics))
    labels = [label for label, _ in results]
    width = max([14, *(len(m) + 2 for m in metrics)])
    lines = [
        f"suite {suite.name}: {len(results)} datasets",
        f"  {'':<{width}}" + "".join(f"{label[:12]:>14}" for label in labels) + f"{'mean':>14}",
    ]
    for metric in metrics:
        values = [result.metrics.get(metric) for _, result in results]
        shown = [v for v in values if v is not None]
        cells = "".join(f"{v:>14.4f}" if v is not None else f"{'':>14}" for v in values)
        lines.append(f"  {metric:<{width}}{cells}{sum(shown) / len(shown):>14.4f}")
    lines += [f"  {label}: {result.run_dir}" for label, result in results]
    lines.append(f"  the suite's table: harness leaderboard --suite {suite.name}")
    return "\n".join(lines)


def job_record(results: Sequence[tuple[str, Any]]) -> Any:
    """One sweep-summary record for a job that ran a whole suite: its members' cache figures summed."""
    cache: Counter = Counter()
    for _, result in results:
        if not result.info.get("resumed"):
            cache.update(result.info.get("cache", {}))
    resumed = all(result.info.get("resumed") for _, result in results)
    return SimpleNamespace(run_dir=Path(results[0][1].run_dir), info={"resumed": resumed, "cache": dict(cache)})
