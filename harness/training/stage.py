"""The training stage: fit a reranker's model with a PEFT method, or load a saved adapter.

The trained adapter is a stage-cache entry keyed by the reranker (model,
config, code), the PEFT method and the training config, so a sweep trains once
per training config and a re-run loads the adapter in seconds. The adapter is
also copied into the run folder, hence into MLflow: loadable by path or run id.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
import json
import logging
import shutil
from pathlib import Path
from typing import Any, Callable, Protocol, TypeVar, runtime_checkable

from harness.data import datasets
from harness.models.backbone import identify
from harness.cache import code_version
from harness.components import Component, Reranker, TrainableReranker, TrainableScorer, check_contract, missing_members
from harness.errors import ConfigError
from harness.training.peft_artifacts import FORMAT, count_parameters, load_adapter, read_metadata, save_adapter
from harness.registry import build_config
from harness.stages import data_identity
from harness.training.loop import TrainConfig, train
from harness.training.data import build_examples, split_by_query

logger = logging.getLogger(__name__)
T = TypeVar("T")


def trainable_scorer(reranker: Any) -> TrainableScorer:
    """The reranker's scorer, checked against ``TrainableScorer`` (the reranker against ``TrainableReranker``)."""
    check_contract(reranker, TrainableReranker, "trained or given an adapter (train / load_adapter)")
    missing = missing_members(reranker.scorer, TrainableScorer)
    if missing:
        raise ConfigError(
            f"reranker '{reranker.name}' is not trainable: its scorer lacks {', '.join(missing)} "
            "(a torch `model` and a differentiable `score(queries, passages)`; "
            "harness.components.TrainableScorer)"
        )
    return reranker.scorer


def _training_data(config: TrainConfig, pm: Any, data_root: Path):
    dataset = datasets.load(config.dataset, pm, data_root)
    qrels = datasets.qrels(dataset, config.dataset)
    queries = datasets.queries(dataset, config.dataset, only=set(qrels))
    first_stage: dict[str, dict[str, float]] = {}
    if dataset.has_scoreddocs():
        for sd in dataset.scoreddocs_iter():
            first_stage.setdefault(sd.query_id, {})[sd.doc_id] = sd.score
    # Judged passages can lie outside the corpus (msmarco-passage-mini keeps 5,698 of
    # DL19's 9,139 judged ones): train only on passages whose text exists.
    present = {doc.doc_id for doc in dataset.docs_iter()}
    qrels = {q: {d: r for d, r in rels.items() if d in present} for q, rels in qrels.items()}
    first_stage = {q: {d: s for d, s in docs.items() if d in present} for q, docs in first_stage.items()}
    store = dataset.docs_store()
    return (
        qrels,
        split_by_query(build_examples(queries, qrels, first_stage), config.validation_fraction, config.seed),
        (lambda doc_id: store.get(doc_id).default_text()),
    )


# Reranker options that only choose what is scored after training. Training never
# reads them, so an adapter is reused across them; each is pinned to its config
# default, so adapters trained before this keep their key.
SCORING_ONLY = ("top_k",)


def trained_config(component: Any) -> dict[str, Any]:
    """The component's cache payload as far as it can change what training produces."""
    payload = dict(component.cache_payload())
    if isinstance(component, Reranker):
        defaults = {f.name: f.default for f in dataclasses.fields(component.config)}
        payload.update({k: defaults[k] for k in SCORING_ONLY if k in payload})
    return payload


def adapter_key(role: str, component: Any, peft_method: Any, config: Any) -> dict[str, Any]:
    """How every adapter's cache key begins: the component trained (as ``role``: name, config, code),
    the PEFT method (name, config, code) and the training config."""
    return {
        role: str(component.name),
        f"{role}_config": trained_config(component),
        f"{role}_code": code_version(type(component)),
        "peft": peft_method.name,
        "peft_config": dataclasses.asdict(peft_method.config),
        "peft_code": code_version(type(peft_method)),
        "train": dataclasses.asdict(config),
    }


def fit_adapter(
    owner: Component,
    holder: Any,
    peft_method: Any,
    stage: str,
    payload: dict[str, Any],
    extra: dict[str, Any],
    prepare: Callable[[], T],
    learn: Callable[[T], tuple[Any, dict[str, Any]]],
    what: str = "adapter",
) -> Adapter:
    """The one training skeleton: the adapter of ``holder.model`` as the stage-cache entry of ``payload``.

    Built (once per payload): ``prepare()`` makes the training data, the PEFT
    method is applied to the backbone, ``learn(data)`` trains and returns the
    loop's result and the specialisation's own figures; the adapter is saved
    (metadata: the method's config, the backbone, ``extra``) beside
    ``training.json``. Otherwise the cached adapter is loaded. Either way the
    adapter is then put to use on ``owner`` (``use_adapter``).
    """
    name = backbone_name(owner)
    trained_here: dict[str, Any] = {}

    def build(folder: Path) -> None:
        data = prepare()
        backbone = identify(holder.model, name)  # the backbone as loaded, before the method changes it
        holder.model = peft_method.apply(holder.model)
        result, figures = learn(data)
        save_adapter(
            holder.model,
            folder / "adapter",
            method=peft_method.name,
            config=dataclasses.asdict(peft_method.config),
            backbone=backbone,
            extra=extra,
        )
        (folder / "training.json").write_text(json.dumps({**training_info(holder.model, result), **figures}))
        trained_here["model"] = holder.model

    folder = owner.context.cache.directory(stage, payload, build)
    if "model" not in trained_here:
        holder.model = load_adapter(holder.model, folder / "adapter", lambda m, meta: peft_method.apply(m), name)
        logger.info("loaded the trained %s from the stage cache (%s)", what, folder.name[:12])
    return use_adapter(
        holder, owner, peft_method, folder.name, folder / "adapter", json.loads((folder / "training.json").read_text())
    )


def fit(reranker: Any, peft_method: Any, train_values: dict, pm: Any, log: Callable[[dict, int], None]) -> Adapter:
    """Train (or load from the cache) and leave the reranker's scorer holding the trained model."""
    if train_values.get("source") == "msmarco_sample":  # train=msmarco_sample: its own data and options
        from harness.training import msmarco_sample as msmarco_training

        return msmarco_training.fit(reranker, peft_method, train_values, pm, log)
    config = build_config(TrainConfig, train_values, "train")
    ctx = reranker.context
    scorer = trainable_scorer(reranker)
    payload = {
        **adapter_key("reranker", reranker, peft_method, config),
        "train_code": code_version(train),
        "data": training_data_identity(config.dataset, pm, ctx),
        "adapter_format": FORMAT,
    }

    def learn(data: tuple) -> tuple[Any, dict[str, Any]]:
        qrels, split, text = data
        logger.info(
            "training %s with peft=%s on %s: %d train / %d validation queries",
            reranker.name,
            peft_method.name,
            config.dataset,
            len(split.train),
            len(split.validation),
        )
        return train(scorer, split.train, split.validation, qrels, text, config, str(scorer.device), log, ctx.show_progress), {}

    return fit_adapter(
        reranker,
        scorer,
        peft_method,
        "adapter",
        payload,
        {"train": dataclasses.asdict(config)},
        lambda: _training_data(config, pm, Path(ctx.data_root)),
        learn,
    )


@runtime_checkable
class GgufConfig(Protocol):
    """A generator config naming a GGUF file of its model (part of the backbone's name)."""

    gguf_file: str | None


@runtime_checkable
class MergeConfig(Protocol):
    """A PEFT method config that chooses whether its weights are merged for inference (default: merged)."""

    merge: bool


def training_data_identity(dataset_id: str, pm: Any, context: Any) -> dict:
    """The training dataset by content, for the adapter's cache key (an edited qrels file trains again)."""
    return data_identity(datasets.load(dataset_id, pm, Path(context.data_root)), context, dataset_id)


def backbone_name(component: Any) -> str:
    """What an adapter records as its backbone's name: the configured model (a generator's GGUF file too)."""
    c = component.config
    default = "packaged-smollm2" if component.kind == "generator" else "packaged-minilm"
    gguf = c.gguf_file if isinstance(c, GgufConfig) else None
    return str(c.model or default) + (f"/{gguf}" if gguf else "")


def training_info(model: Any, result: Any) -> dict[str, Any]:
    """What a training records in ``training.json`` and the run's metrics: parameters, costs, curves."""
    trained, total = count_parameters(model)
    return {
        "trainable_parameters": trained,
        "total_parameters": total,
        "trainable_share": trained / total,
        "train_seconds": result.seconds,
        "train_step_seconds": result.step_seconds,
        "train_steps": result.steps,
        "best_step": result.best_step,
        "peak_memory_mb": result.peak_memory_mb,
        "losses": result.losses,
        "validation": result.validation,
    }


@dataclass(frozen=True)
class Adapter:
    """An adapter in use on its component: its key, its folder (copied into the run folder), its training figures."""

    key: str
    folder: Path | None = None  # None: a saved adapter, loaded from elsewhere
    figures: dict[str, Any] = field(default_factory=dict)  # training.json: costs and curves (empty when loaded)


def use_adapter(
    holder: Any, owner: Component, peft_method: Any, key: str, adapter_folder: Path | None, figures: dict[str, Any] | None = None
) -> Adapter:
    """After training or loading: merge ``holder.model`` for inference where the method allows, eval mode,
    and key ``owner``'s cached outputs by the adapter (``Component.training_key``)."""
    if not isinstance(peft_method.config, MergeConfig) or peft_method.config.merge:
        holder.model = peft_method.merge(holder.model)
    holder.model.eval()
    owner.training_key = key
    return Adapter(key, adapter_folder, figures or {})


def load_saved(reranker: Any, peft_method: Any, source: str, tracking_uri: str | None = None) -> Adapter:
    """Put a saved adapter (a folder, or an MLflow run id whose artifacts hold one) onto the reranker."""
    # Before the scorer is built: the adapter's backbone can decide an architecture left to `auto`.
    reranker.adopt_saved_backbone(read_metadata(resolve_adapter(source, tracking_uri))["backbone"], source)
    return _load_saved(trainable_scorer(reranker), reranker, peft_method, source, tracking_uri)


def load_saved_generator(generator: Any, peft_method: Any, source: str, tracking_uri: str | None = None) -> Adapter:
    """Put a saved generator adapter (folder or MLflow run id) onto the generator's model."""
    generator.load()
    return _load_saved(generator, generator, peft_method, source, tracking_uri)


def _load_saved(holder: Any, owner: Any, peft_method: Any, source: str, tracking_uri: str | None) -> Adapter:
    folder = resolve_adapter(source, tracking_uri)
    meta = read_metadata(folder)
    if meta["method"] != peft_method.name:
        raise ConfigError(
            f"load_adapter={source}: it was trained with peft={meta['method']}, but peft={peft_method.name} "
            f"is configured; add peft={meta['method']}"
        )
    where = f"{folder / 'metadata.json'}: config of peft={meta['method']}"
    holder.model = load_adapter(
        holder.model, folder, lambda model, m: build_method(peft_method, m, where).apply(model), backbone_name(owner)
    )
    return use_adapter(holder, owner, peft_method, meta["sha256"], None)


def adapter_part(source: str, tracking_uri: str | None = None) -> str:
    """What a saved adapter was trained for: ``reranker`` (older adapters say nothing) or ``generator``."""
    return read_metadata(resolve_adapter(source, tracking_uri)).get("part", "reranker")


def build_method(peft_method: Any, meta: dict, where: str = "") -> Any:
    """The PEFT method with the adapter's own saved config (rank, targets...), checked like any config."""
    config = build_config(type(peft_method.config), meta["config"], where or f"adapter metadata ({meta['method']})")
    method = type(peft_method)(config, peft_method.context)
    method.name = peft_method.name
    return method


@functools.lru_cache(maxsize=32)  # a run's part is read first, then its adapter: one download
def resolve_adapter(source: str, tracking_uri: str | None = None) -> Path:
    """A folder as is; a 32-hex MLflow run id: its ``adapter`` artifacts, from ``tracking_uri``."""
    path = Path(source).expanduser()
    if path.is_dir():
        return path if (path / "metadata.json").exists() else path / "adapter"
    if len(source) == 32 and all(c in "0123456789abcdef" for c in source):
        import mlflow

        from mlflow.exceptions import MlflowException

        try:
            local = mlflow.artifacts.download_artifacts(run_id=source, artifact_path="adapter", tracking_uri=tracking_uri)
        except (MlflowException, OSError) as exc:
            raise ConfigError(
                f"load_adapter={source}: no adapter artifacts for this MLflow run id at "
                f"{tracking_uri or 'the default tracking URI'} ({str(exc).splitlines()[0]})"
            ) from None
        return Path(local)
    raise ConfigError(f"load_adapter={source}: neither an adapter folder nor an MLflow run id")


def copy_adapter(adapter: Adapter, run_dir: Path) -> None:
    """A trained adapter into the run folder (hence the tracker's artifacts); a loaded one stays where it is."""
    if adapter.folder and adapter.folder.is_dir():
        shutil.copytree(adapter.folder, run_dir / "adapter", dirs_exist_ok=True)
