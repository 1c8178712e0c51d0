"""Every extension point of the harness, in one place.

A plugin is a module (or object) with functions named like the hooks below,
marked with ``@harness.hookimpl``. Built-in plugins live in ``plugins/``
(installed as ``harness_plugins``); third-party ones are found through the
``harness.plugins`` entry-point group. Each ``harness_add_*`` hook returns a
mapping of component name to component class; names must be unique within a
kind across all plugins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pluggy

PROJECT = "harness"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def harness_add_retrievers() -> Mapping[str, type]:
    """Return first-stage retriever classes by name.

    Each class subclasses :class:`harness.components.Retriever`: it is built from
    its ``Config`` dataclass and answers ``retrieve(dataset, queries)`` with a
    ranx-style run ``{query_id: {doc_id: score}}``.
    """


@hookspec
def harness_add_rerankers() -> Mapping[str, type]:
    """Return reranker classes by name.

    Each class subclasses :class:`harness.components.Reranker` and answers
    ``rerank(dataset, queries, run)`` with a new run over the top-k of ``run``.
    """


@hookspec
def harness_add_peft_methods() -> Mapping[str, type]:
    """Return parameter-efficient fine-tuning methods by name.

    Each class subclasses :class:`harness.components.PeftMethod`: ``apply(model)``
    makes a torch module trainable with few parameters, ``merge(model)`` folds
    the trained parameters back for serving.
    """


@hookspec
def harness_add_generators() -> Mapping[str, type]:
    """Return answer generators by name.

    Each class subclasses :class:`harness.components.Generator` and answers
    ``generate(questions, contexts)`` with one answer string per question.
    """


@hookspec
def harness_add_noise_injectors() -> Mapping[str, type]:
    """Return noise injectors by name.

    Each class subclasses :class:`harness.components.NoiseInjector`:
    ``inject(query, passages, candidates)`` returns the passages of a
    generator's context with controlled noise put in.
    """


@hookspec
def harness_add_metrics() -> Mapping[str, type]:
    """Return evaluation metrics by name, beside the ones ranx provides.

    Each class subclasses :class:`harness.components.Metric` and answers
    ``per_query(qrels, run)`` with ``{query_id: value}``.
    """


@hookspec
def harness_add_trackers() -> Mapping[str, type]:
    """Return experiment trackers by name (MLflow is the built-in default).

    Each class subclasses :class:`harness.components.Tracker`: ``start`` opens a
    tracked run and returns an object that logs metrics and artifacts. Their
    component kind is ``tracking``, the name of their config group (``tracker``,
    its earlier name, is still accepted).
    """


@hookspec
def harness_register_datasets(data_root: Path) -> list[str]:
    """Register datasets with ``ir_datasets.registry`` and return their ids.

    ``data_root`` is the folder that holds local data (``HARNESS_DATA_ROOT``,
    ``data_root=`` on the command line, or ``../shared/data`` beside the
    checkout). Called once per run, before the dataset is loaded; registering
    must be cheap: read files only when the dataset is used.
    """


@hookspec
def harness_config_dirs() -> list[str]:
    """Return extra Hydra config search-path entries (``pkg://...`` or ``file://...``).

    Lets an installed plugin ship its own config files, e.g. a
    ``reranker/my_reranker.yaml`` selectable as ``reranker=my_reranker``.
    """


@hookspec
def harness_register_configs(config_store: Any) -> None:
    """Register Hydra configs from code, in Hydra's ``ConfigStore``.

    For configs built programmatically (a preset per model size, say):
    ``config_store.store(group="reranker", name="my_reranker_fast", node={...})``
    makes ``reranker=my_reranker_fast`` selectable. Called once, before the
    run config is composed; the return value is ignored.
    """


@hookspec
def harness_after_run(config: Any, metrics: Mapping[str, float], run_dir: Path) -> None:
    """Called after a run has been evaluated, written and tracked (also for a run that resume skipped
    because its config had finished: its metrics are read back from its folder).

    ``config`` is the resolved run config, ``metrics`` the mean metrics by name
    (``ndcg@10``...), ``run_dir`` the run's output folder. For notifications,
    extra reports or exports; the return value is ignored.
    """
