"""The interfaces that plugins implement, one small base class per kind.

A component is a class with a ``Config`` dataclass (fields carry help text and
the values they accept in their metadata, peft-style) and one or two verbs.
The registry builds it from the Hydra config of its group, validated against
``Config``: keys, types, then bounds and choices.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from harness import bounds
from harness.bounds import METADATA_KEY as BOUNDS_KEY
from harness.bounds import Bounds

if TYPE_CHECKING:
    from harness.cache import StageCache

# A ranx-style run or qrels: query_id -> doc_id -> score (or relevance grade).
Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]


def option(default: Any = dataclasses.MISSING, help: str = "", *, ge: float | None = None, gt: float | None = None,
           le: float | None = None, lt: float | None = None, choices: Sequence[Any] | None = None,
           items: Bounds | None = None, min_items: int | None = None, **kwargs: Any) -> Any:
    """A dataclass field with help text and, optionally, the values it accepts.

    ``ge``/``gt``/``le``/``lt`` bound a number, ``choices`` lists the allowed
    values, ``items`` bounds each value of a list and ``min_items`` its length.
    The registry checks them when it builds the config, and ``harness plugins
    list -v`` shows them beside the help.
    """
    metadata = {"help": help}
    declared = Bounds(ge, gt, le, lt, tuple(choices) if choices is not None else None, items, min_items)
    if declared != Bounds():
        problem = declared.violation(default) if default is not dataclasses.MISSING else None
        if problem:  # the plugin's own mistake: fails its import, which names the plugin
            raise ValueError(f"option default {problem}")
        metadata[BOUNDS_KEY] = declared
    if isinstance(default, (list, dict, set)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata=metadata, **kwargs)
    return field(default=default, metadata=metadata, **kwargs)


@dataclass
class NoConfig:
    """Config of a component that takes no options."""


@dataclass
class Context:
    """What the harness hands every component: where to cache, which device, which seed."""

    cache: "StageCache"
    dataset_id: str = ""
    data_root: str = ""
    results_dir: Path = Path("results")
    device: str = "auto"
    seed: int = 0
    show_progress: bool = True
    upstream_key: str = ""


def check_queries(queries: Sequence[Any], where: str) -> None:
    """Queries must be ir_datasets query records (``query_id`` and ``text``): say so, not AttributeError."""
    for position, query in enumerate(queries):
        if not (isinstance(getattr(query, "query_id", None), str) and isinstance(getattr(query, "text", None), str)):
            from harness.errors import DataError

            raise DataError(f"{where}: query #{position} is {query!r}, not a query record with "
                            "string fields query_id and text (e.g. ir_datasets' GenericQuery)")


class Component(ABC):
    """Base of every component: holds its validated config and the run context."""

    Config: ClassVar[type] = NoConfig
    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""  # set by the registry to the registered name

    def __init__(self, config: Any, context: Context):
        if dataclasses.is_dataclass(config):  # the registry checked it already; a direct caller may not have
            bounds.check(config, f"{self.kind or 'component'} '{self.name or type(self).__name__}'")
        self.config = config
        self.context = context

    def cache_payload(self) -> Mapping[str, Any]:
        """What identifies this component's output for the stage cache (its config)."""
        return dataclasses.asdict(self.config)


class Retriever(Component):
    """First stage: scores documents of a corpus (or reads precomputed scores)."""

    kind = "retriever"
    # True for retrievers that search the dataset's own corpus (BM25, dense):
    # on a subset corpus their figures are not comparable to full-collection ones.
    searches_corpus: ClassVar[bool] = True

    @abstractmethod
    def retrieve(self, dataset: Any, queries: Sequence[Any]) -> Run:
        """Return ``{query_id: {doc_id: score}}`` for ``queries`` (ir_datasets query records)."""


class Reranker(Component):
    """Second stage: rescores the top-k documents of a run."""

    kind = "reranker"

    @abstractmethod
    def rerank(self, dataset: Any, queries: Sequence[Any], run: Run) -> Run:
        """Return a new run with the top-k documents of ``run`` rescored."""


class PeftMethod(Component):
    """Makes a torch module trainable with few parameters."""

    kind = "peft"

    @abstractmethod
    def apply(self, model: Any) -> Any:
        """Return ``model`` with the method's trainable parameters added."""

    def merge(self, model: Any) -> Any:
        """Fold trained parameters into the base weights (default: nothing to fold)."""
        return model


class Generator(Component):
    """Answers questions from passages."""

    kind = "generator"

    @abstractmethod
    def generate(self, questions: Sequence[str], contexts: Sequence[Sequence[str]]) -> list[str]:
        """Return one answer per question, given its context passages."""


class NoiseInjector(Component):
    """Puts controlled noise into a generator's context."""

    kind = "noise"

    @abstractmethod
    def inject(self, query: Any, passages: Sequence[Any], candidates: Sequence[Any]) -> list[Any]:
        """Return the context passages with noise drawn from ``candidates``."""


class Metric(Component):
    """An evaluation measure beyond ranx's own."""

    kind = "metric"

    @abstractmethod
    def per_query(self, qrels: Qrels, run: Run) -> dict[str, float]:
        """Return ``{query_id: value}``."""


class TrackedRun(ABC):
    """An open tracked run."""

    @abstractmethod
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log numeric metrics (names may contain '@': the tracker makes them safe)."""

    @abstractmethod
    def log_artifacts(self, folder: Path) -> None:
        """Copy every file of ``folder`` into the run's artifacts."""

    @abstractmethod
    def finish(self, status: str) -> None:
        """Close the run as ``FINISHED`` or ``FAILED``."""


class Tracker(Component):
    """Experiment tracking (MLflow by default)."""

    kind = "tracking"

    @abstractmethod
    def start(self, experiment: str, run_name: str, params: Mapping[str, Any],
              tags: Mapping[str, str]) -> TrackedRun:
        """Open a run and log its params and tags."""


# Component kind -> (base class, hook that registers it). One table, so that
# adding a kind is one line here and one hook in hookspecs.py.
KINDS: dict[str, tuple[type, str]] = {
    "retriever": (Retriever, "harness_add_retrievers"),
    "reranker": (Reranker, "harness_add_rerankers"),
    "peft": (PeftMethod, "harness_add_peft_methods"),
    "generator": (Generator, "harness_add_generators"),
    "noise": (NoiseInjector, "harness_add_noise_injectors"),
    "metric": (Metric, "harness_add_metrics"),
    "tracking": (Tracker, "harness_add_trackers"),
}
# Earlier names of a kind, still accepted wherever a kind is named (the kind is its config group's name).
KIND_ALIASES: dict[str, str] = {"tracker": "tracking"}
# How error messages name several components of a kind ("registered trackers: mlflow, none").
PLURALS: dict[str, str] = {"tracking": "trackers"}
