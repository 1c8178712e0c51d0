"""The interfaces that plugins implement, one small base class per kind.

A component is a class with a ``Config`` dataclass (fields carry help text and
the values they accept in their metadata, peft-style) and one or two verbs.
The registry builds it from the Hydra config of its group, validated against
``Config``: keys, types, then bounds and choices.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, NamedTuple, Protocol, Sequence, runtime_checkable

from harness import bounds
from harness.bounds import METADATA_KEY as BOUNDS_KEY
from harness.bounds import Bounds

if TYPE_CHECKING:
    from harness.cache import StageCache

# A ranx-style run or qrels: query_id -> doc_id -> score (or relevance grade).
Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]


def option(
    default: Any = dataclasses.MISSING,
    help: str = "",
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: Sequence[Any] | None = None,
    items: Bounds | None = None,
    min_items: int | None = None,
    **kwargs: Any,
) -> Any:
    """A dataclass field with help text and, optionally, the values it accepts.

    ``ge``/``gt``/``le``/``lt`` bound a number, ``choices`` lists the allowed
    values, ``items`` bounds each value of a list and ``min_items`` its length.
    The registry checks them when it builds the config, and ``harness plugins
    list -v`` shows them beside the help.
    """
    metadata: dict[str, Any] = {"help": help}
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


def check_queries(queries: Sequence[Any], where: str) -> None:
    """Queries must be ir_datasets query records (``query_id`` and ``text``): say so, not AttributeError."""
    for position, query in enumerate(queries):
        if not (isinstance(getattr(query, "query_id", None), str) and isinstance(getattr(query, "text", None), str)):
            from harness.errors import DataError

            raise DataError(
                f"{where}: query #{position} is {query!r}, not a query record with "
                "string fields query_id and text (e.g. ir_datasets' GenericQuery)"
            )


class Component(ABC):
    """Base of every component: holds its validated config and the run context."""

    Config: ClassVar[type] = NoConfig
    kind: ClassVar[str] = ""
    name: str = ""  # set by the registry to the registered name
    # The adapter (trained or loaded) this component's outputs depend on: keys its cached outputs.
    training_key: str | None = None

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

    def run_info(self, dataset: Any, queries: Sequence[Any]) -> dict[str, Any] | None:
        """Figures about the retrieval for the run's info (e.g. an approximate index's recall@k); None if none."""
        return None


# A reranker's or generator's config field with the queries per shard of its stage
# (harness.scale.shards.query_shards): it splits the work and never changes the result,
# so it is not in the stage's key. Without it, the stage is one shard.
SHARD_SIZE = "shard_size"


def without_shard_size(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != SHARD_SIZE}


def shard_size(component: Component) -> int | None:
    """The queries per shard of ``component``'s stage: its config's ``shard_size``, None (one shard) without it."""
    value = getattr(component.config, SHARD_SIZE, None)
    return value if isinstance(value, int) and value >= 1 else None


class Reranker(Component):
    """Second stage: rescores the top-k documents of a run (in shards of queries where its config has ``shard_size``)."""

    kind = "reranker"

    def cache_payload(self) -> Mapping[str, Any]:
        return without_shard_size(super().cache_payload())

    @abstractmethod
    def rerank(self, dataset: Any, queries: Sequence[Any], run: Run) -> Run:
        """Return a new run with the top-k documents of ``run`` rescored."""

    def rerank_after(self, dataset: Any, queries: Sequence[Any], run: Run, upstream: str) -> Run:
        """What the rerank stage calls: ``rerank``. ``upstream`` is the cache key of the stage that made ``run``;
        a reranker that caches stages of its own (a fusion of other stages) overrides this to key them by it."""
        return self.rerank(dataset, queries, run)

    def run_info(self, dataset: Any, queries: Sequence[Any]) -> dict[str, Any] | None:
        """Figures about the reranking for the run's info (e.g. ``dtype=int8``'s agreement with fp32); None if none."""
        return None

    def adopt_saved_backbone(self, backbone: dict[str, Any], source: str) -> None:
        """Before a saved adapter (``load_adapter=source``) is put on this reranker: ``backbone`` is the
        adapter's record of the model it was trained on (``model_class``...). A reranker whose options
        leave the architecture to the checkpoint (``head=auto``) takes the adapter's here, or names
        the option that contradicts it. Default: nothing to adopt."""


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
    """Answers questions from passages (in shards of questions where its config has ``shard_size``)."""

    kind = "generator"

    def cache_payload(self) -> Mapping[str, Any]:
        return without_shard_size(super().cache_payload())

    @abstractmethod
    def generate(self, questions: Sequence[str], contexts: Sequence[Sequence[str]]) -> list[str]:
        """Return one answer per question, given its context passages."""


class NoiseInjector(Component):
    """Puts controlled noise into a generator's context.

    ``needs_corpus``: the stage calls ``prepare(corpus doc ids)`` before any
    ``inject``. ``raw_candidates``: the candidates are the ranking as is
    (judged-relevant passages included; the end-to-end setting), else they are
    the ranking without them and the config has a noise ``ratio`` in [0, 1]
    (a ratio of 1 leaves no answer in the context: the rejection rate).
    """

    kind = "noise"
    needs_corpus: ClassVar[bool] = False
    raw_candidates: ClassVar[bool] = False

    def prepare(self, corpus_ids: Sequence[str]) -> None:
        """Receive every doc id of the corpus (called only where ``needs_corpus``)."""

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
    """Experiment tracking (MLflow by default).

    Optional capabilities, declared here and overridden by the trackers that have them:
    a store where a run id names saved artifacts (``tracking_uri``), and the runs of a
    config for resume (``find_runs``, ``set_status``).
    """

    kind = "tracking"

    def tracking_uri(self) -> str | None:
        """The store where this run's run ids are looked up (``load_adapter=RUN_ID``); None: no store."""
        return None

    def find_runs(self, experiment: str, config_hash: str) -> list[Mapping[str, str]] | None:
        """Tracked runs of ``experiment`` tagged ``config_hash``, ``{'run_id', 'status'}`` each; None: not known."""
        return None

    def set_status(self, run_id: str, status: str) -> None:
        """Close a tracked run with ``status`` (resume marks a killed job's run KILLED); default: nothing to close."""

    @abstractmethod
    def start(self, experiment: str, run_name: str, params: Mapping[str, Any], tags: Mapping[str, str]) -> TrackedRun:
        """Open a run and log its params and tags."""


@runtime_checkable
class TrainableScorer(Protocol):
    """What training and adapter loading use of a reranker's scorer: a torch module and differentiable scores."""

    model: Any
    device: Any  # where the model runs (training moves its batches there)

    def score(self, queries: Sequence[str], passages: Sequence[str]) -> Any: ...


@runtime_checkable
class TrainableReranker(Protocol):
    """A reranker that ``train`` / ``load_adapter`` can adapt: one holding a trainable scorer."""

    scorer: TrainableScorer


@runtime_checkable
class AbstainingConfig(Protocol):
    abstain_answer: str


@runtime_checkable
class TrainableGenerator(Protocol):
    """A generator that ``train.part=generator`` / ``load_adapter`` can adapt (``harness.training.generator``).

    ``load()`` makes ``model`` (a causal LM) and ``tokenizer`` ready; ``prompts``
    are exactly the prompts of inference; ``config.abstain_answer`` is the target
    of a context without the answer.
    """

    config: AbstainingConfig
    model: Any
    tokenizer: Any

    def load(self) -> None: ...

    def prompts(self, questions: Sequence[str], contexts: Sequence[Sequence[str]]) -> list[str]: ...


@runtime_checkable
class RatioConfig(Protocol):
    ratio: float


def protocol_members(protocol: type) -> list[str]:
    """The attributes and methods a Protocol declares (its own, in order)."""
    own = [n for n in vars(protocol) if not n.startswith("_") and callable(vars(protocol)[n])]
    return [*vars(protocol).get("__annotations__", {}), *own]


def missing_members(obj: Any, protocol: type) -> list[str]:
    """The members of ``protocol`` that ``obj`` lacks, nested protocols (``config.abstain_answer``) included.

    Looked up without calling properties where the class declares them, so that
    checking a component never loads its model.
    """
    hints = typing.get_type_hints(protocol)
    missing = []
    for name in protocol_members(protocol):
        static = inspect.getattr_static(obj, name, _ABSENT)
        if static is _ABSENT:
            missing.append(name)
            continue
        nested = _protocol(hints.get(name))
        if nested is not None and not isinstance(static, property):
            missing += [f"{name}.{m}" for m in missing_members(getattr(obj, name), nested)]
    return missing


_ABSENT = object()


def _protocol(hint: Any) -> type | None:
    return hint if isinstance(hint, type) and vars(hint).get("_is_protocol", False) else None


def check_contract(component: Component, protocol: type, role: str) -> None:
    """A ConfigError naming the component and what it lacks, unless it has every member of ``protocol``."""
    missing = missing_members(component, protocol)
    if missing:
        from harness.errors import ConfigError

        raise ConfigError(
            f"{component.kind} '{component.name}' ({type(component).__module__}."
            f"{type(component).__qualname__}) cannot be {role}: it lacks {', '.join(missing)} "
            f"(harness.components.{protocol.__name__})"
        )


class Kind(NamedTuple):
    """One kind of component: what the registry, the scaffold and the contract kit know of it."""

    base: type[Component]
    hook: str  # the hook that registers its classes (hookspecs.py)
    group: str | None  # its Hydra config group, the kind's own name (None: metrics, named in evaluation.metrics)
    plural: str  # how messages name several ("registered trackers: mlflow, none")
    aliases: tuple[str, ...] = ()  # earlier names of the kind, still accepted wherever a kind is named


# The one per-kind table: the registry, ``harness plugins list`` and ``harness plugins new --kind``
# read it. A new kind is more than its row: its hook in hookspecs.py, a config group (conf/<kind>/ and
# a RunConfig field), a stage that runs it (pipeline.make_plan, stages.py), an example component in
# harness.cli.scaffold_components.COMPONENTS and toy inputs in harness.testing.kinds.ADAPTERS
# (tests/test_layout.py checks both cover it). CONTRIBUTING.md, "Adding a kind of component", lists it all.
KINDS: dict[str, Kind] = {
    "retriever": Kind(Retriever, "harness_add_retrievers", "retriever", "retrievers"),
    "reranker": Kind(Reranker, "harness_add_rerankers", "reranker", "rerankers"),
    "peft": Kind(PeftMethod, "harness_add_peft_methods", "peft", "peft methods"),
    "generator": Kind(Generator, "harness_add_generators", "generator", "generators"),
    "noise": Kind(NoiseInjector, "harness_add_noise_injectors", "noise", "noise injectors"),
    "metric": Kind(Metric, "harness_add_metrics", None, "metrics"),
    "tracking": Kind(Tracker, "harness_add_trackers", "tracking", "trackers", aliases=("tracker",)),
}
KIND_ALIASES: dict[str, str] = {alias: kind for kind, row in KINDS.items() for alias in row.aliases}
