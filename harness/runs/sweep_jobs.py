"""A sweep's jobs, known before the first one runs: a sweep whose jobs would share a run folder fails at once.

A Hydra callback (``on_multirun_start``) expands the sweep as Hydra's
BasicSweeper does (``hydra.sweeper.params`` and the command's overrides, as a
cartesian product), composes and resolves each job's config as the launcher
does, and computes each job's run folder ``results_dir/<experiment>/<run>``.
Bad names and two jobs with one folder (a fixed ``run_name``, a repeated
value) are refused, naming the jobs' overrides and the folder, before anything
is written. Other sweepers (Optuna...) pick their jobs as they go: the
pipeline's own checks (names, the run folder's marker, resume) still apply.
"""

from __future__ import annotations

import copy
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence, cast

from hydra.experimental.callback import Callback

from harness.errors import ConfigError, HarnessError

logger = logging.getLogger("harness.sweep")

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


@dataclass(frozen=True)
class Job:
    num: int
    overrides: tuple[str, ...]
    folder: Path
    digest: str

    def describe(self) -> str:
        return describe(self.num, self.overrides)


def describe(num: int, overrides: Sequence[str]) -> str:
    return f"#{num} ({' '.join(filter_hydra(overrides)) or 'no overrides'})"


def filter_hydra(overrides: Sequence[str]) -> list[str]:
    return [o for o in overrides if not o.startswith("hydra.")]


def job_overrides(config: Any) -> list[list[str]] | None:
    """Each job's overrides, in launch order; None where the sweeper is not Hydra's basic one."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    if OmegaConf.select(config, "hydra.sweeper._target_") != BASIC_SWEEPER:
        return None
    params = [f"{key}={value}" for key, value in (config.hydra.sweeper.params or {}).items()]
    task = cast("list[str]", OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
    [jobs] = BasicSweeper.split_arguments(parser.parse_overrides([*params, *task]), None)
    return jobs


def job_config(master: Any, num: int, overrides: Sequence[str]) -> dict[str, Any]:
    """The resolved config job ``num`` will run with (as the launcher and ``run_job`` build it)."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf, open_dict, read_write

    config = GlobalHydra.instance().config_loader().load_sweep_config(master, list(overrides))
    with open_dict(config):
        config.hydra.job.id = num
        config.hydra.job.num = num
    HydraConfig.instance().set_config(config)  # so ${hydra:job.num} and the like resolve as in the job
    task = copy.deepcopy(config)
    with read_write(task), open_dict(task):
        del task["hydra"]
    return cast("dict[str, Any]", OmegaConf.to_container(task, resolve=True))


def job_of(num: int, overrides: Sequence[str], config: dict[str, Any]) -> Job:
    from harness.runs import paths
    from harness.pipeline import config_hash, default_run_name

    digest = config_hash(config)
    try:
        paths.check_names(config)
        run_name = config.get("run_name") or default_run_name(config, digest)
        folder = paths.run_folder(Path(config["results_dir"]).resolve(), config["experiment_name"], run_name)
    except ConfigError as exc:
        raise ConfigError(f"sweep job {describe(num, overrides)}: {exc}") from None
    return Job(num, tuple(overrides), folder, digest)


def sweep_jobs(config: Any) -> list[Job]:
    """The jobs of the sweep whose configs can be resolved here (the others report their own errors)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    found = []
    saved = HydraConfig.instance().cfg
    try:
        for num, overrides in enumerate(job_overrides(config) or []):
            try:
                resolved = job_config(config, num, overrides)
            except (HydraException, OmegaConfBaseException) as exc:
                logger.debug("sweep guard: job #%d not checked (%s); it reports its own error", num, exc)
                continue
            if resolved.get("suite"):  # its members' runs: checked here, folders shared only by the same runs
                check_suite_job(config, num, overrides, resolved)
                continue
            found.append(job_of(num, overrides, resolved))
    finally:
        HydraConfig.instance().cfg = saved
    return found


def check_suite_job(master: Any, num: int, overrides: Sequence[str], config: dict[str, Any]) -> None:
    """A job of ``suite=NAME``: its suite and members compose, and no fixed run_name gives them one folder.

    Two suite jobs may share a member run (``-m suite=dl,mix`` with DL19 in both): the same config, which
    the later job finds finished and skips, so member folders are not checked for clashes.
    """
    from omegaconf import OmegaConf

    from harness.runs import suite as suites

    choice = next((o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0].lstrip("+") == "suite"), None)
    search_path = suites.search_path_overrides(cast(list, OmegaConf.to_container(master.hydra.overrides.hydra)))
    try:
        suite = suites.parse(config["suite"], choice)
        suites.members(suite, suites.system_overrides(overrides), search_path)
    except ConfigError as exc:
        raise ConfigError(f"sweep job {describe(num, overrides)}: {exc}") from None


def shared_folders(jobs: Sequence[Job]) -> list[tuple[Job, Job]]:
    """(first job, later job) for each job whose run folder an earlier job already has."""
    first: dict[Path, Job] = {}
    clashes = []
    for job in jobs:
        if job.folder in first:
            clashes.append((first[job.folder], job))
        else:
            first[job.folder] = job
    return clashes


def clash_message(clashes: Sequence[tuple[Job, Job]]) -> str:
    one, other = clashes[0]
    more = f" (and {len(clashes) - 1} more job(s) sharing a folder)" if len(clashes) > 1 else ""
    common = [o for o in one.overrides if o in other.overrides]
    rest = " ".join(filter_hydra(common)) or "no other overrides"
    if set(common) == set(one.overrides) | set(other.overrides):
        jobs = f"#{one.num} and #{other.num}, both with {rest},"
    else:
        shown = (describe(job.num, [o for o in job.overrides if o not in common]) for job in (one, other))
        jobs = f"{' and '.join(shown)}, with {rest},"
    if one.digest == other.digest:
        why = f"are the same config ({one.digest[:8]}): drop the repeated value from the sweep"
    else:
        why = (
            "differ but have one run_name: leave run_name unset (the default name carries the config hash) "
            "or make it differ per job, e.g. run_name=bm25-${retriever.k1}"
        )
    return f"sweep jobs {jobs} would write one run folder, {one.folder}{more}; they {why}. Nothing was run."


def check_sweep(config: Any) -> None:
    clashes = shared_folders(sweep_jobs(config))
    if clashes:
        raise ConfigError(clash_message(clashes))


class SweepGuard(Callback):
    """Refuses, before the first job, a sweep with a bad name or two jobs sharing one run folder."""

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        try:
            check_sweep(config)
        except HarnessError as exc:
            # Hydra turns a callback's exception into a warning and goes on: stop the sweep here.
            logger.error("%s", exc)
            print(f"harness: error: {exc}", file=sys.stderr)
            sys.exit(2)
