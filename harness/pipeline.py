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
from typing import Any, Mapping, cast

from harness import resume, stages
from harness.data import datasets
from harness.training import generator as generator_training
from harness.runs import paths
from harness.training import stage as train_stage
from harness.config import implied
from harness.errors import ConfigError, DataError
from harness.cache import StageCache, stable_hash
from harness.components import (
    Component,
    Context,
    PeftMethod,
    Reranker,
    Retriever,
    TrainableGenerator,
    TrainableReranker,
    Tracker,
    check_contract,
)
from harness.evaluation import evaluate, some_ids
from harness.outputs import flatten, start_run_folder, write_run_folder
from harness.plugin_manager import get_plugin_manager
from harness.rag.stage import RagStage
from harness.registry import ComponentRegistry

logger = logging.getLogger(__name__)

# Keys that change where or how a run is recorded, not what it computes.
NOT_IDENTITY = {
    "experiment_name",
    "run_name",
    "results_dir",
    "cache_dir",
    "use_cache",
    "show_progress",
    "tracking",
    "hydra",
    "plugins",
    "resume",
    "suite",
}


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
        logger.warning(
            "adapter= is deprecated (it clashes with peft=adapter, the bottleneck method): "
            "use load_adapter=%s, which does the same",
            old,
        )
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


@dataclass(frozen=True)
class Adaptation:
    """What is adapted before the run, and from what: trained (``train``) or a saved adapter (``load_adapter``)."""

    part: str  # "reranker" or "generator"
    peft: PeftMethod
    train: Mapping[str, Any] | None = None
    load_adapter: str | None = None


@dataclass(frozen=True)
class Plan:
    """Everything a run needs, built and validated before anything is trained or written."""

    config: Mapping[str, Any]
    registry: ComponentRegistry
    context: Context
    retriever: Retriever
    reranker: Reranker | None
    rag: RagStage | None
    tracker: Tracker
    adaptation: Adaptation | None
    digest: str
    run_name: str
    run_dir: Path
    corpus_label: str
    tags: Mapping[str, str]

    @property
    def adapted(self) -> Component | None:
        """The component the adaptation changes (its outputs are keyed by the adapter)."""
        if self.adaptation is None:
            return None
        return self.rag.generator if self.adaptation.part == "generator" and self.rag else self.reranker


def run_experiment(config: Mapping[str, Any], pm=None, choices: Mapping[str, str] | None = None) -> RunResult:
    """Run the experiment of a resolved config (a plain dict, as OmegaConf.to_container gives)."""
    paths.check_names(config)  # before anything is built or written
    pm = pm or get_plugin_manager(blocked=config["plugins"]["blocked"])
    plan = make_plan(config, ComponentRegistry(pm), choices or {})
    result = _resume(plan) if config.get("resume") else None
    if result is None:
        result = _run(plan)
    pm.hook.harness_after_run(config=config, metrics=result.metrics, run_dir=result.run_dir)
    return result


def make_plan(config: Mapping[str, Any], registry: ComponentRegistry, choices: Mapping[str, str]) -> Plan:
    """Build and check every component, and name the run, its folder and its tags: a ConfigError before any work."""
    results_dir = Path(config["results_dir"]).resolve()
    data_root = datasets.resolve_data_root(config["data_root"])
    ds = config["dataset"]
    context = Context(
        cache=StageCache(Path(config["cache_dir"] or results_dir / "cache"), config["use_cache"]),
        dataset_id=ds["id"],
        data_root=str(data_root),
        results_dir=results_dir,
        device=config["device"],
        seed=config["seed"],
        show_progress=config["show_progress"],
    )

    def build(kind: str) -> Any:  # each kind is built from the config group of its name
        where = f"{kind}={choices.get(kind, config[kind].get('name'))}"
        return registry.create(kind, config[kind], context, where=where)

    retriever = cast(Retriever, build("retriever"))  # the registry built each of its kind's base class
    reranker = cast(Reranker, build("reranker")) if config.get("reranker") else None
    rag = RagStage.from_config(config, registry, context, choices) if config.get("generator") else None
    tracker = cast(Tracker, registry.create("tracking", config.get("tracking") or implied("tracking"), context, where="tracking"))
    adaptation = _adaptation(config, build, tracker, reranker, rag)
    digest = config_hash(config)
    run_name = config.get("run_name") or default_run_name(config, digest)
    label = corpus_label(ds["subset_corpus"], retriever.searches_corpus)
    tags = {
        "harness.config_hash": digest,
        "harness.dataset": ds["id"],
        "harness.system": "+".join(system_names(config)),
        "harness.corpus": "subset" if label.startswith("subset") else "full",
        "harness.corpus_label": label,
    }
    return Plan(
        config,
        registry,
        context,
        retriever,
        reranker,
        rag,
        tracker,
        adaptation,
        digest,
        run_name,
        paths.run_folder(results_dir, config["experiment_name"], run_name),
        label,
        tags,
    )


def _adaptation(config, build, tracker, reranker, rag) -> Adaptation | None:
    load_adapter = saved_adapter(config)
    train = config.get("train")
    if not (train or load_adapter):
        return None
    if not config.get("peft"):
        raise ConfigError("train / load_adapter need a peft method (e.g. peft=lora)")
    peft = build("peft")
    if train:
        part = train.get("part", "reranker")
    else:  # a saved adapter says itself what it was trained for (possibly read from the tracking store)
        assert load_adapter
        part = train_stage.adapter_part(load_adapter, tracker.tracking_uri())
    if part == "reranker":
        if not reranker:
            raise ConfigError(
                "train / load_adapter need a reranker to train (e.g. reranker=cross_encoder peft=lora), "
                "or train.part=generator with a generator"
            )
        check_contract(reranker, TrainableReranker, "trained or given an adapter (train / load_adapter)")
    elif part == "generator":
        if not rag:
            raise ConfigError("train.part=generator (or a generator adapter) needs a generator (e.g. generator=hf)")
        check_contract(rag.generator, TrainableGenerator, "trained or given an adapter (train / load_adapter)")
    return Adaptation(part, peft, train if train else None, None if train else load_adapter)


def _resume(plan: Plan) -> RunResult | None:
    """The finished result of this config, or None after clearing a killed job's leftovers."""
    config, run_dir = plan.config, plan.run_dir
    runs = resume.tracked_runs(plan.tracker, config["experiment_name"], plan.digest)
    if resume.is_done(run_dir, plan.digest, runs):
        logger.info("resume: config %s already finished (%s); skipping", plan.digest[:8], run_dir)
        metrics, per_query, info = resume.load_result(run_dir)
        return RunResult(run_dir, run_dir.name, metrics, per_query, {**info, "resumed": True})
    resume.retire(plan.tracker, run_dir, plan.digest, runs, Path(config["results_dir"]).resolve())
    return None


def _run(plan: Plan) -> RunResult:
    """Adapt (train or load), execute and record the plan in a fresh run folder and tracked run."""
    config = plan.config
    start_run_folder(plan.run_dir, plan.digest)
    tracked = plan.tracker.start(config["experiment_name"], plan.run_name, flatten(config), plan.tags)
    try:
        adapter = _adapt(plan, tracked.log_metrics) if plan.adaptation else None
        result = _execute(plan, adapter)
        tracked.log_metrics(result.metrics)
        tracked.log_artifacts(result.run_dir)
        tracked.finish("FINISHED")
    except BaseException:
        tracked.finish("FAILED")
        raise
    return result


def _adapt(plan: Plan, log) -> train_stage.Adapter:
    """Train the adapted part (or load its saved adapter) before it reranks or answers."""
    adaptation, config = plan.adaptation, plan.config
    assert adaptation is not None
    component, peft = plan.adapted, adaptation.peft
    if adaptation.load_adapter:
        load = train_stage.load_saved_generator if adaptation.part == "generator" else train_stage.load_saved
        return load(component, peft, adaptation.load_adapter, plan.tracker.tracking_uri())
    if adaptation.part == "reranker":
        return train_stage.fit(component, peft, dict(adaptation.train or {}), plan.registry.pm, log)
    registry, context = plan.registry, plan.context

    def make_noise(values: dict):
        return registry.create("noise", values, context, where=f"train.noise={values['name']}")

    def rank(dataset_id: str, dataset, queries):  # the experiment's first stage, on the training split's corpus
        own = dataclasses.replace(context, dataset_id=dataset_id)
        retriever = registry.create("retriever", config["retriever"], own, where="retriever (training questions)")
        return stages.first_stage(cast(Retriever, retriever), dataset, queries)[0]

    return generator_training.fit(
        component, peft, dict(adaptation.train or {}), registry.pm, make_noise, rank, log, ranker=config["retriever"]
    )


def _execute(plan: Plan, adapter: train_stage.Adapter | None) -> RunResult:
    import yaml

    config, context, run_dir = plan.config, plan.context, plan.run_dir
    ds = config["dataset"]
    started = time.perf_counter()
    dataset = datasets.load(ds["id"], plan.registry.pm, Path(context.data_root))
    qrels = datasets.qrels(dataset, ds["id"])
    queries = datasets.queries(dataset, ds["id"], ds["query_limit"], only=set(qrels) if ds["judged_only"] else None)
    logger.info("%s: %d queries, %d judged", ds["id"], len(queries), len(qrels))
    if not queries:  # else every stage would run for nothing and the evaluation fail at the end
        raise DataError(
            f"dataset '{ds['id']}': no query to run: none of its {len(qrels)} judged queries "
            f"({some_ids(qrels)}) is among its queries (see: harness datasets check dataset=...)"
        )
    run, key = stages.first_stage(plan.retriever, dataset, queries)
    retrieval = plan.retriever.run_info(dataset, queries)  # e.g. an approximate index's recall@k
    reranking = None
    if plan.reranker:
        run, key = stages.second_stage(plan.reranker, dataset, queries, run, upstream=key)
        reranking = plan.reranker.run_info(dataset, queries)  # e.g. dtype=int8's agreement with fp32
    if ds["query_limit"]:
        kept = {q.query_id for q in queries}
        qrels = {qid: rels for qid, rels in qrels.items() if qid in kept}
    metrics = list(config["evaluation"]["metrics"])
    custom = {
        m: plan.registry.create("metric", {"name": m}, context, where=f"evaluation.metrics: {m}")
        for m in metrics
        if m in plan.registry.names("metric")
    }
    evaluation = evaluate(qrels, run, metrics, ds["binary_relevance_level"], custom=custom)
    if plan.rag:  # answers.jsonl goes into run_dir; the RAG rates join the run's metrics
        mean, per_query = plan.rag.run(dataset, queries, qrels, run, key, run_dir, ds["binary_relevance_level"])
        evaluation.mean.update(mean)
        evaluation.per_query.update(per_query)
    figures = adapter.figures if adapter else {}
    if figures:  # training's cost figures join the metrics; the curves and the adapter go into the run folder
        evaluation.mean.update({k: float(v) for k, v in figures.items() if isinstance(v, (int, float))})
    if adapter:
        train_stage.copy_adapter(adapter, run_dir)
    info = {
        "run_name": plan.run_name,
        "dataset": ds["id"],
        "data_root": context.data_root,
        "corpus_label": plan.corpus_label,
        "queries": len(queries),
        "judged_queries": len(qrels),
        "seconds": round(time.perf_counter() - started, 3),
        "cache": dict(context.cache.stats),
        "tags": dict(plan.tags),
        "retrieval": retrieval,
        "reranking": reranking,
        "training": {k: figures[k] for k in ("losses", "validation")} if figures else None,
    }
    if plan.rag:
        info["rag"] = plan.rag.info
    logger.info("stage cache: %s", context.cache.summary())
    write_run_folder(
        run_dir,
        metrics=evaluation.mean,
        per_query=evaluation.per_query,
        run=run,
        config_yaml=yaml.safe_dump(config, sort_keys=False),
        info=info,
    )
    return RunResult(run_dir, plan.run_name, evaluation.mean, evaluation.per_query, info)
