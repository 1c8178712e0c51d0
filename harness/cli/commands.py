"""What the CLI subcommands do (imported only when one runs)."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any, cast

from harness.errors import HarnessError

logger = logging.getLogger("harness")


def task(cfg) -> dict[str, float]:
    """Hydra's task function: one job of ``harness run``."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from harness.config import check_run_config
    from harness.pipeline import run_experiment
    from harness.resume import resume_enabled

    config = cast("dict[str, Any]", OmegaConf.to_container(cfg, resolve=True))
    hydra_cfg = HydraConfig.get()
    choices = dict(hydra_cfg.runtime.choices)
    if config.get("suite"):
        return suite_task(hydra_cfg, config, choices.get("suite"))
    config["resume"] = resume_enabled(config.get("resume"), hydra_cfg.mode == RunMode.MULTIRUN)
    try:
        check_run_config(config)
        result = run_experiment(config, choices=choices)
        if hydra_cfg.mode == RunMode.MULTIRUN:
            _record_job(hydra_cfg, config, result)
    except HarnessError as exc:
        logger.error("%s", exc)
        print(f"harness: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(format_result(config["dataset"]["id"], result, config["dataset"]["binary_relevance_level"]))
    return result.metrics


def suite_task(hydra_cfg, config, choice: str | None) -> dict[str, float]:
    """One job of ``harness run suite=NAME``: the system on each of the suite's datasets (harness/runs/suite.py)."""
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from harness.runs import suite as suites

    try:
        suite = suites.parse(config["suite"], choice)
        overrides = suites.system_overrides(cast(list, OmegaConf.to_container(hydra_cfg.overrides.task)))
        search_path = suites.search_path_overrides(cast(list, OmegaConf.to_container(hydra_cfg.overrides.hydra)))
        results = suites.run(suite, suites.members(suite, overrides, search_path))
        if hydra_cfg.mode == RunMode.MULTIRUN:
            _record_job(hydra_cfg, config, suites.job_record(results))
    except HarnessError as exc:
        logger.error("%s", exc)
        print(f"harness: error: {exc}", file=sys.stderr)
        sys.exit(2)
    for label, result in results:
        print(format_result(f"{result.info['dataset']} [{label}]", result, result_level(result)))
    print(suites.summary(suite, results))
    return {f"{label}/{name}": value for label, result in results for name, value in result.metrics.items()}


def result_level(result) -> int:
    """The binary relevance level a run was evaluated at, from its run folder's config."""
    import yaml

    config = yaml.safe_load((Path(result.run_dir) / "config.yaml").read_text(encoding="utf-8"))
    return int(config["dataset"]["binary_relevance_level"])


def _record_job(hydra_cfg, config, result) -> None:
    """The job's outcome, for the sweep summary (harness/reports/sweep_summary.py), in its Hydra job folder."""
    from harness.reports.sweep_summary import record_job

    roots = [Path(config["results_dir"]), Path(hydra_cfg.sweep.dir)]
    record_job(Path(hydra_cfg.runtime.output_dir), roots, result)


def format_result(dataset_id: str, result, binary_relevance_level: int = 1) -> str:
    from harness.data.relevance import convention

    lines = [f"{dataset_id}  {result.run_name}", f"  [{result.info['corpus_label']}]"]
    width = max([14, *(len(name) + 2 for name in result.metrics)])
    lines += [f"  {name:<{width}}{value:.4f}" for name, value in result.metrics.items()]
    lines.append(f"  {convention(binary_relevance_level, dataset_id)}")
    lines.append(f"  results: {result.run_dir}")
    return "\n".join(lines)


def extra_search_path(overrides: list[str]) -> list[str]:
    """Config folders that installed plugins ship, as a hydra.searchpath override.

    Also lets plugins register configs from code (``harness_register_configs``)."""
    from hydra.core.config_store import ConfigStore

    from harness.plugin_manager import call_each, get_plugin_manager

    pm = get_plugin_manager()
    call_each(pm, "harness_register_configs", config_store=ConfigStore.instance())
    dirs = [d for _plugin, found in call_each(pm, "harness_config_dirs") for d in (found or [])]
    if not dirs or any(o.startswith(("hydra.searchpath", "+hydra.searchpath")) for o in overrides):
        return []
    return [f"hydra.searchpath=[{','.join(dirs)}]"]


def evaluate_file(args) -> int:
    """``harness evaluate``: a run folder's own run.trec is evaluated as its run did (see run_folder)."""
    from harness.data import datasets
    from harness.evaluation import evaluate, require_overlap
    from harness.plugin_manager import get_plugin_manager
    from harness.runs.run_folder import RunFolder, default_binary_level
    from harness.data.trec_io import read_run

    run_file = Path(args.run_file)
    run = read_run(run_file)  # a malformed file fails before the dataset loads
    own = RunFolder.of(run_file)
    own = own if own and own.dataset_id == args.dataset else None
    dataset = datasets.load(args.dataset, get_plugin_manager(), datasets.resolve_data_root(args.data_root))
    qrels = datasets.qrels(dataset, args.dataset)
    if own:
        qrels = own.evaluated_qrels(dataset, qrels)
    level = args.binary_relevance_level
    if level is None:
        level = own.binary_relevance_level if own else default_binary_level(args.dataset)
    require_overlap(run, qrels, str(run_file), args.dataset)
    result = evaluate(qrels, run, args.metrics, level)
    if args.json:
        import json

        print(json.dumps(result.mean))
        return 0
    print(f"{run_file} on {args.dataset} ({len(qrels)} judged queries, binary rel >= {level}){_settings(own, args)}")
    for name, value in result.mean.items():
        print(f"  {name:<14}{value:.4f}")
    from harness.data.relevance import convention

    print(f"  {convention(level, args.dataset)}")
    return 0


def _settings(own, args) -> str:
    """The run folder's settings ``harness evaluate`` applied, as a line of its header."""
    used = []
    if own and args.binary_relevance_level is None:
        used.append(f"dataset.binary_relevance_level={own.binary_relevance_level}")
    if own and own.query_limit:
        used.append(f"dataset.query_limit={own.query_limit}")
    return f"\n  from the run folder's config.yaml: {', '.join(used)}" if used else ""


def list_plugins(verbose: bool = False) -> int:
    """Every plugin with what it contributes; a faulty one is marked with its errors and the rest still listed.

    Returns 1 when a plugin failed to import or has a faulty hook (so that a
    script or CI job can check an environment), else 0.
    """
    from harness.components import KINDS, Component
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry

    pm = get_plugin_manager()
    faults: dict[str, list[str]] = {}
    registry = ComponentRegistry(pm, faults=faults)
    owners: dict[str, list[str]] = {}
    for kind in KINDS:
        for entry in registry.entries(kind):
            owners.setdefault(entry.plugin, []).append(f"{kind}:{entry.name}")
            if verbose:
                component: type[Component] = entry.cls
                owners[entry.plugin].extend(_options(component.Config))
    for plugin, item in _datasets_and_configs(pm, faults):
        owners.setdefault(plugin, []).append(item)
    for name, _plugin in sorted(pm.list_name_plugin()):
        print(f"{name:<28} {pm.harness_dists.get(name, '(unknown distribution)')}" + ("  FAULTY" if name in faults else ""))
        for item in owners.get(name, []):
            print(f"    {item}")
        for message in faults.get(name, []):
            print(f"    FAULT: {message}")
    for name, error in pm.harness_failed.items():
        print(f"{name:<28} {pm.harness_dists.get(name, '')}  FAILED TO LOAD: {error}")
    for message in pm.harness_skipped:
        print(f"SKIPPED: {message}")
    return 1 if faults or pm.harness_failed else 0


def new_plugin(name: str, kind: str, parent: str) -> int:
    from harness.cli.scaffold import new_plugin as scaffold

    root = scaffold(name, kind, Path(parent))
    print(f"created {root}\nnext:\n  pip install -e {root}\n  cd {root} && python -m pytest -q\n  harness plugins list")
    return 0


def _datasets_and_configs(pm, faults: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The dataset ids and config folders each plugin contributes (registering datasets is cheap).

    Configs registered from code are registered too, only to find a plugin whose hook raises."""
    from hydra.core.config_store import ConfigStore

    from harness.data.datasets import default_data_root
    from harness.plugin_manager import call_each

    found = []
    for plugin, ids in call_each(pm, "harness_register_datasets", faults, data_root=default_data_root()):
        found += [(plugin, f"dataset:{i}") for i in ids or []]
    for plugin, dirs in call_each(pm, "harness_config_dirs", faults):
        found += [(plugin, f"configs:{d}") for d in dirs or []]
    call_each(pm, "harness_register_configs", faults, config_store=ConfigStore.instance())
    return found


def _options(config_cls) -> list[str]:
    """``name = default  [bounds]  help`` for each field of a component's Config."""
    from harness import bounds

    out = []
    for f in dataclasses.fields(config_cls):
        default = f.default if f.default is not dataclasses.MISSING else "(required)"
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        declared = bounds.of(f)
        accepted = f"  [{declared.describe()}]" if declared else ""
        out.append(f"        {f.name} = {default!r}{accepted}  {f.metadata.get('help', '')}".rstrip())
    return out


def noise_curve(args) -> int:
    from harness.rag.groundedness import LABELS
    from harness.reports.noise_curve import RATES, summarise, validation

    out_dir = Path(args.out or args.folder)
    found = summarise(Path(args.folder), out_dir)

    def cell(value: float, interval: list[float] | None) -> str:
        return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else f"{value:.4f}"

    for group, data in found.items():
        print(group + (f"  (n={data['questions']} questions; [95% bootstrap CI])" if "questions" in data else ""))
        print("  rho    " + "".join(f"{m.removeprefix('rag_'):>24}" for m in RATES))
        for p in data["points"]:
            print(f"  {p['ratio']:<6.2f} " + "".join(f"{cell(p[m], p.get('ci95', {}).get(m)):>24}" for m in RATES))
        print("  area   " + "".join(f"{cell(data['area'][m], data.get('area_ci95', {}).get(m)):>24}" for m in RATES))
    for d in json.loads((out_dir / "differences.json").read_text()):
        print(f"paired difference, n={d['questions']} questions:\n  {d['other']}\n  minus {d['base']}")
        print("  rho    " + "".join(f"{m.removeprefix('rag_'):>24}" for m in RATES))
        for p in d["points"]:
            print(f"  {p['ratio']:<6.2f} " + "".join(f"{cell(p[m], p['ci95'][m]):>24}" for m in RATES))
        if "area" in d:
            print("  area   " + "".join(f"{cell(d['area'][m], d['area_ci95'][m]):>24}" for m in RATES))
    table = validation(Path(args.folder))
    if table:
        print("answer verdict x groundedness label (all answers of the sweep):")
        for verdict, counts in table.items():
            print(f"  {verdict:<13}" + "".join(f"{label}={counts.get(label, 0):<6}" for label in LABELS))
    print(
        f"written: {out_dir}/curves.json, differences.json, groundedness_validation.json, noise_curve.png"
        + (", noise_curve_difference.png" if (out_dir / "noise_curve_difference.png").is_file() else "")
    )
    if args.mlflow:
        print(f"logged to MLflow run {_log_summary(Path(args.folder), Path(args.out or args.folder))}")
    return 0


def _log_summary(folder: Path, out_dir: Path) -> str:
    """Log the summary files as artifacts of a 'noise-curve' run in the sweep's MLflow experiment."""
    from harness.cache import StageCache
    from harness.components import Context, Tracker
    from harness.plugin_manager import get_plugin_manager
    from harness.registry import ComponentRegistry

    results_dir = folder.resolve().parent  # results/<experiment>: the store lives in results/
    context = Context(cache=StageCache(results_dir / "cache"), results_dir=results_dir)
    tracker = ComponentRegistry(get_plugin_manager()).create("tracking", {"name": "mlflow"}, context)
    if not isinstance(tracker, Tracker):
        raise HarnessError(f"tracking 'mlflow' is a {type(tracker).__name__}, not a harness.components.Tracker")
    run = tracker.start(folder.name, "noise-curve", {"folder": str(folder)}, {"harness.kind": "noise-curve"})
    run.log_artifacts(out_dir)
    run.finish("FINISHED")
    return f"'noise-curve' in experiment '{folder.name}' ({results_dir / 'mlflow.db'})"
