"""The training stage: fit a reranker's model with a PEFT method, or load a saved adapter.

The trained adapter is a stage-cache entry keyed by the reranker (model,
config, code), the PEFT method and the training config, so a sweep trains once
per training config and a re-run loads the adapter in seconds. The adapter is
also copied into the run folder, hence into MLflow: loadable by path or run id.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import shutil
from pathlib import Path
from typing import Any, Callable

from harness.data import datasets
from harness.models.backbone import identify
from harness.cache import code_version
from harness.errors import ConfigError
from harness.training.peft_artifacts import FORMAT, count_parameters, load_adapter, read_metadata, save_adapter
from harness.registry import build_config
from harness.stages import data_identity
from harness.training.loop import TrainConfig, train
from harness.training.data import build_examples, split_by_query

logger = logging.getLogger(__name__)


def trainable_scorer(reranker: Any) -> Any:
    scorer = getattr(reranker, "scorer", None)
    if scorer is None or not hasattr(scorer, "model") or not hasattr(scorer, "score"):
        raise ConfigError(f"reranker '{reranker.name}' is not trainable: it has no scorer with a torch `model` "
                          "and a differentiable `score(queries, passages)`")
    return scorer


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
    return qrels, split_by_query(build_examples(queries, qrels, first_stage), config.validation_fraction, config.seed), \
        (lambda doc_id: store.get(doc_id).default_text())


def fit(reranker: Any, peft_method: Any, train_values: dict, pm: Any, log: Callable[[dict, int], None]) -> dict:
    """Train (or load from the cache) and leave the reranker's scorer holding the trained model."""
    if train_values.get("source") == "msmarco_sample":  # train=msmarco_sample: its own data and options
        from harness.training import msmarco_sample as msmarco_training

        return msmarco_training.fit(reranker, peft_method, train_values, pm, log)
    config = build_config(TrainConfig, train_values, "train")
    ctx = reranker.context
    scorer = trainable_scorer(reranker)
    payload = {"reranker": f"{reranker.name}", "reranker_config": reranker.cache_payload(),
               "reranker_code": code_version(type(reranker)), "peft": peft_method.name,
               "peft_config": dataclasses.asdict(peft_method.config), "peft_code": code_version(type(peft_method)),
               "train": dataclasses.asdict(config), "train_code": code_version(train),
               "data": training_data_identity(config.dataset, pm, ctx), "adapter_format": FORMAT}
    trained_here: dict[str, Any] = {}
    name = backbone_name(reranker)

    def build(folder: Path) -> None:
        qrels, split, text = _training_data(config, pm, Path(ctx.data_root))
        backbone = identify(scorer.model, name)  # the backbone as loaded, before the method changes it
        scorer.model = peft_method.apply(scorer.model)
        logger.info("training %s with peft=%s on %s: %d train / %d validation queries", reranker.name,
                    peft_method.name, config.dataset, len(split.train), len(split.validation))
        result = train(scorer, split.train, split.validation, qrels, text, config, str(scorer.device), log,
                       ctx.show_progress)
        save_adapter(scorer.model, folder / "adapter", method=peft_method.name,
                     config=dataclasses.asdict(peft_method.config), backbone=backbone,
                     extra={"train": dataclasses.asdict(config)})
        (folder / "training.json").write_text(json.dumps(training_info(scorer.model, result)))
        trained_here["model"] = scorer.model

    folder = ctx.cache.directory("adapter", payload, build)
    if "model" not in trained_here:
        scorer.model = load_adapter(scorer.model, folder / "adapter", lambda m, meta: peft_method.apply(m), name)
        logger.info("loaded the trained adapter from the stage cache (%s)", folder.name[:12])
    use_adapter(scorer, reranker, peft_method, folder.name, folder / "adapter")
    return json.loads((folder / "training.json").read_text())


def training_data_identity(dataset_id: str, pm: Any, context: Any) -> dict:
    """The training dataset by content, for the adapter's cache key (an edited qrels file trains again)."""
    return data_identity(datasets.load(dataset_id, pm, Path(context.data_root)), context, dataset_id)


def backbone_name(component: Any) -> str:
    """What an adapter records as its backbone's name: the configured model (a generator's GGUF file too)."""
    c = component.config
    default = "packaged-smollm2" if component.kind == "generator" else "packaged-minilm"
    gguf = getattr(c, "gguf_file", None)
    return str(c.model or default) + (f"/{gguf}" if gguf else "")


def training_info(model: Any, result: Any) -> dict[str, Any]:
    """What a training records in ``training.json`` and the run's metrics: parameters, costs, curves."""
    trained, total = count_parameters(model)
    return {"trainable_parameters": trained, "total_parameters": total, "trainable_share": trained / total,
            "train_seconds": result.seconds, "train_step_seconds": result.step_seconds, "train_steps": result.steps,
            "best_step": result.best_step, "peak_memory_mb": result.peak_memory_mb,
            "losses": result.losses, "validation": result.validation}


def use_adapter(holder: Any, owner: Any, peft_method: Any, key: str, adapter_folder: Path | None) -> None:
    """After training or loading: merge ``holder.model`` for serving where the method allows, eval mode,
    and key ``owner``'s cached outputs by the adapter (``adapter_folder`` is copied into the run)."""
    if getattr(peft_method.config, "merge", True):
        holder.model = peft_method.merge(holder.model)
    holder.model.eval()
    owner.training_key = key
    owner.adapter_folder = adapter_folder


def load_saved(reranker: Any, peft_method: Any, source: str, tracking_uri: str | None = None) -> None:
    """Put a saved adapter (a folder, or an MLflow run id whose artifacts hold one) onto the reranker."""
    _load_saved(trainable_scorer(reranker), reranker, peft_method, source, tracking_uri)


def load_saved_generator(generator: Any, peft_method: Any, source: str, tracking_uri: str | None = None) -> None:
    """Put a saved generator adapter (folder or MLflow run id) onto the generator's model."""
    generator.load()
    _load_saved(generator, generator, peft_method, source, tracking_uri)


def _load_saved(holder: Any, owner: Any, peft_method: Any, source: str, tracking_uri: str | None) -> None:
    folder = resolve_adapter(source, tracking_uri)
    meta = read_metadata(folder)
    if meta["method"] != peft_method.name:
        raise ConfigError(f"load_adapter={source}: it was trained with peft={meta['method']}, but peft={peft_method.name} "
                          f"is configured; add peft={meta['method']}")
    where = f"{folder / 'metadata.json'}: config of peft={meta['method']}"
    holder.model = load_adapter(holder.model, folder, lambda model, m: build_method(peft_method, m, where).apply(model),
                                backbone_name(owner))
    use_adapter(holder, owner, peft_method, meta["sha256"], None)


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
            raise ConfigError(f"load_adapter={source}: no adapter artifacts for this MLflow run id at "
                              f"{tracking_uri or 'the default tracking URI'} ({str(exc).splitlines()[0]})") from None
        return Path(local)
    raise ConfigError(f"load_adapter={source}: neither an adapter folder nor an MLflow run id")


def copy_adapter(reranker: Any, run_dir: Path) -> None:
    folder = getattr(reranker, "adapter_folder", None)
    if folder and Path(folder).is_dir():
        shutil.copytree(folder, run_dir / "adapter", dirs_exist_ok=True)
