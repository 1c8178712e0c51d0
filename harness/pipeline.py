"""One experiment, from a resolved config to metrics, files and a tracked run.

Kept thin on purpose: components do the work, stages cache it, outputs and
trackers record it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from harness import resume, stages
from harness.data import datasets
from harness.training import generator as generator_training
from harness.runs import paths
from harness.training import stage as train_stage
from harness.errors import ConfigError, DataError
from harness.cache import StageCache, stable_hash
from harness.components import Context
from harness.evaluation import evaluate, some_ids
from harness.outputs import flatten, start_run_folder, write_run_folder
from harness.plugin_manager import get_plugin_manager
from harness.rag.stage import RagStage
from harness.registry import ComponentRegistry

logger = logging.getLogger(__name__)

# Keys that change where or how a run is recorded, not what it computes.
NOT_IDENTITY = {"experiment_name", "run_name", "results_dir", "cache_dir", "use_cache", "show_progress",
                "tracking", "hydra", "plugins", "resume"}


@dataclass
class RunResult:
    run_dir: Path
    run_name: str
    metrics: dict[str, float]
    per_query: dict[str, dict[str, float]]
    info: dict[str, Any] = field(default_factory=dict)


def config_hash(config: Mapping[str, Any]) -> str:
    identity = {k: v for k, v in config.items() if k not in NOT_IDENTITY}
    if "load_adapter" in identity:  # the saved adapter keeps its earlier key here: earlier runs' digests still match
        saved = identity.pop("load_adapter")
        identity["adapter"] = saved or identity.get("adapter")
    return stable_hash(identity)


def saved_adapter(config: Mapping[str, Any]) -> str | None:
    """The saved adapter to load (``load_adapter=``, or its deprecated alias ``adapter=``, with a warning)."""
    new, old = config.get("load_adapter"), config.get("adapter")
    if old and new and old != new:
        raise ConfigError(f"load_adapter={new} and its deprecated alias adapter={old} disagree; give load_adapter= only")
    if old and not new:
        logger.warning("adapter= is deprecated (it clashes with peft=adapter, the bottleneck method): "
                       "use load_adapter=%s, which does the same", old)
    return new or old


def system_names(config: Mapping[str, Any]) -> list[str]:
    """The components a run is named after: retriever, then reranker and generator where configured."""
    groups = ("retriever", "reranker", "generator")
    return [str(config[g].get("name")) for g in groups if isinstance(config.get(g), Mapping) and config[g]]


def default_run_name(config: Mapping[str, Any], digest: str) -> str:
    return f"{'+'.join(system_names(config))}-{digest[:8]}"


def corpus_label(subset_corpus: bool, searches_corpus: bool) -> str:
    if subset_corpus and searches_corpus:
        return "subset corpus: first stage searched only the dataset's subset; not comparable to full-collection figures"
    return "comparable: first stage over the full collection (or a full-collection run)"


def run_experiment(config: Mapping[str, Any], pm=None, choices: Mapping[str, str] | None = None) -> RunResult:
    """Run the experiment of a resolved config (a plain dict, as OmegaConf.to_container gives)."""
    choices = choices or {}
    paths.check_names(config)  # before anything is built or written
    pm = pm or get_plugin_manager(blocked=config["plugins"]["blocked"])
    registry = ComponentRegistry(pm)
    results_dir = Path(config["results_dir"]).resolve()
    data_root = datasets.resolve_data_root(config["data_root"])
    ds = config["dataset"]
    context = Context(cache=StageCache(Path(config["cache_dir"] or results_dir / "cache"), config["use_cache"]),
                      dataset_id=ds["id"], data_root=str(data_root), results_dir=results_dir,
                      device=config["device"], seed=config["seed"], show_progress=config["show_progress"])

    def build(kind: str, group: str):
        where = f"{group}={choices.get(group, config[group].get('name'))}"
        return registry.create(kind, config[group], context, where=where)

    retriever = build("retriever", "retriever")
    reranker = build("reranker", "reranker") if config.get("reranker") else None
    load_adapter = saved_adapter(config)
    adapts = bool(config.get("train") or load_adapter)  # trains a PEFT adapter, or loads a saved one
    peft = build("peft", "peft") if adapts and config.get("peft") else None
    rag = RagStage.from_config(config, registry, context, choices) if config.get("generator") else None
    tracker = registry.create("tracking", config.get("tracking") or {"name": "none"}, context, where="tracking")
    part = adapted_part(config, load_adapter, tracker)
    if adapts and not peft:
        raise ConfigError("train / load_adapter need a peft method (e.g. peft=lora)")
    if part == "reranker" and adapts and not reranker:
        raise ConfigError("train / load_adapter need a reranker to train (e.g. reranker=cross_encoder peft=lora), "
                          "or train.part=generator with a generator")
    if part == "generator" and not rag:
        raise ConfigError("train.part=generator (or a generator adapter) needs a generator (e.g. generator=hf)")
    digest = config_hash(config)
    systems = system_names(config)
    run_name = config.get("run_name") or default_run_name(config, digest)
    run_dir = paths.run_folder(results_dir, config["experiment_name"], run_name)
    label = corpus_label(ds["subset_corpus"], retriever.searches_corpus)
    tags = {"harness.config_hash": digest, "harness.dataset": ds["id"], "harness.system": "+".join(systems),
            "harness.corpus": "subset" if label.startswith("subset") else "full", "harness.corpus_label": label}
    if config.get("resume"):
        done = _resume(config, tracker, digest, run_dir, results_dir)
        if done:
            return done
    start_run_folder(run_dir, digest)
    tracked = tracker.start(config["experiment_name"], run_name, flatten(config), tags)
    try:
        if part == "generator":
            adapted, figures = rag.generator, _prepare_generator(config, registry, context, rag.generator, peft,
                                                                 tracked, tracker, load_adapter)
        else:
            adapted, figures = reranker, _prepare_reranker(config, pm, reranker, peft, tracked, tracker, load_adapter)
        result = _execute(config, registry, context, retriever, reranker, (run_name, run_dir), label, tags, rag,
                          figures, adapted)
        tracked.log_metrics(result.metrics)
        tracked.log_artifacts(result.run_dir)
        tracked.finish("FINISHED")
    except BaseException:
        tracked.finish("FAILED")
        raise
    pm.hook.harness_after_run(config=config, metrics=result.metrics, run_dir=result.run_dir)
    return result


def _resume(config, tracker, digest: str, run_dir: Path, results_dir: Path) -> RunResult | None:
    """The finished result of this config, or None after clearing a killed job's leftovers."""
    runs = resume.tracked_runs(tracker, config["experiment_name"], digest)
    if resume.is_done(run_dir, digest, runs):
        logger.info("resume: config %s already finished (%s); skipping", digest[:8], run_dir)
        metrics, per_query, info = resume.load_result(run_dir)
        return RunResult(run_dir, run_dir.name, metrics, per_query, {**info, "resumed": True})
    resume.retire(tracker, run_dir, digest, runs, results_dir)
    return None


def _prepare_reranker(config, pm, reranker, peft, tracked, tracker, load_adapter) -> dict:
    """Train the reranker (or load a saved adapter) before it reranks; returns the training figures."""
    if config.get("train"):
        return train_stage.fit(reranker, peft, config["train"], pm, tracked.log_metrics)
    if load_adapter:
        train_stage.load_saved(reranker, peft, load_adapter, _tracking_uri(tracker))
    return {}


def adapted_part(config, load_adapter, tracker) -> str | None:
    """What ``train`` / ``load_adapter`` act on: ``train.part``, or the saved adapter's own record."""
    if config.get("train"):
        return (config["train"] or {}).get("part", "reranker")
    if load_adapter:
        return train_stage.adapter_part(load_adapter, _tracking_uri(tracker))
    return None


def _tracking_uri(tracker) -> str | None:
    # A run id is looked up in this run's own tracking store (the trackers that have one).
    return tracker.tracking_uri() if hasattr(tracker, "tracking_uri") else None


def _prepare_generator(config, registry, context, generator, peft, tracked, tracker, load_adapter) -> dict:
    """Train the generator with noise (or load its saved adapter) before it answers."""
    train = config.get("train")
    if not train:
        train_stage.load_saved_generator(generator, peft, load_adapter, _tracking_uri(tracker))
        return {}

    def make_noise(values: dict):
        return registry.create("noise", values, context, where=f"train.noise={values['name']}")

    def rank(dataset_id: str, dataset, queries):  # the experiment's first stage, on the training split's corpus
        own = dataclasses.replace(context, dataset_id=dataset_id)
        retriever = registry.create("retriever", config["retriever"], own, where="retriever (training questions)")
        return stages.first_stage(retriever, dataset, queries)[0]

    return generator_training.fit(generator, peft, train, registry.pm, make_noise, rank, tracked.log_metrics,
                                  ranker=config["retriever"])


def _execute(config, registry, context, retriever, reranker, where: tuple[str, Path], label, tags, rag=None,
             figures=None, adapted=None) -> RunResult:
    import yaml

    run_name, run_dir = where
    ds = config["dataset"]
    started = time.perf_counter()
    dataset = datasets.load(ds["id"], registry.pm, Path(context.data_root))
    qrels = datasets.qrels(dataset, ds["id"])
    queries = datasets.queries(dataset, ds["id"], ds["query_limit"], only=set(qrels) if ds["judged_only"] else None)
    logger.info("%s: %d queries, %d judged", ds["id"], len(queries), len(qrels))
    if not queries:  # else every stage would run for nothing and the evaluation fail at the end
        raise DataError(f"dataset '{ds['id']}': no query to run: none of its {len(qrels)} judged queries "
                        f"({some_ids(qrels)}) is among its queries (see: harness datasets check dataset=...)")
    run, key = stages.first_stage(retriever, dataset, queries)
    if reranker:
        run, key = stages.second_stage(reranker, dataset, queries, run, upstream=key)
    if ds["query_limit"]:
        kept = {q.query_id for q in queries}
        qrels = {qid: rels for qid, rels in qrels.items() if qid in kept}
    metrics = list(config["evaluation"]["metrics"])
    custom = {m: registry.create("metric", {"name": m}, context, where=f"evaluation.metrics: {m}")
              for m in metrics if m in registry.names("metric")}
    evaluation = evaluate(qrels, run, metrics, ds["binary_relevance_level"], custom=custom)
    if rag:  # answers.jsonl goes into run_dir; the RAG rates join the run's metrics
        mean, per_query = rag.run(dataset, queries, qrels, run, key, run_dir, ds["binary_relevance_level"])
        evaluation.mean.update(mean)
        evaluation.per_query.update(per_query)
    if figures:  # training's cost figures join the metrics; the curves and the adapter go into the run folder
        evaluation.mean.update({k: float(v) for k, v in figures.items() if isinstance(v, (int, float))})
        train_stage.copy_adapter(adapted, run_dir)
    info = {"run_name": run_name, "dataset": ds["id"], "data_root": context.data_root, "corpus_label": label,
            "queries": len(queries), "judged_queries": len(qrels), "seconds": round(time.perf_counter() - started, 3),
            "cache": dict(context.cache.stats), "tags": tags,
            "training": {k: figures[k] for k in ("losses", "validation")} if figures else None}
    logger.info("stage cache: %s", context.cache.summary())
    write_run_folder(run_dir, metrics=evaluation.mean, per_query=evaluation.per_query, run=run,
                     config_yaml=yaml.safe_dump(config, sort_keys=False), info=info)
    return RunResult(run_dir, run_name, evaluation.mean, evaluation.per_query, info)
