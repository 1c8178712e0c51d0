"""``train=msmarco_sample``: fit a reranker on the msmarco-train-sample queries with mined hard negatives.

The same training stage as ``train=dl19`` (``harness.training.stage``): the
adapter is a stage-cache entry keyed by the reranker, the PEFT method, this
config, the code and the content digests of the file and the collection; it
is copied into the run folder and MLflow, with ``training.json``. What is new:

- the data: ``harness.data.msmarco_sample`` (read strictly, text repaired);
- the negatives: mined by BM25 over the file's passages plus a collection
  (``harness.training.hard_negatives``, cached), the file's own, or both; optionally
  filtered by the bi-encoder as a teacher;
- the losses: listwise softmax, or pairwise (RankNet or margin) over each
  query's (1 positive + n negatives) group;
- a linear schedule with warmup, a training max length, and checkpoints every
  ``checkpoint_every`` steps under the cache: a killed training resumes there.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from harness.data import datasets
from harness.training import hard_negatives
from harness.data import msmarco_sample
from harness.cache import code_version, stable_hash
from harness.training.checkpoints import Checkpoint
from harness.components import option
from harness.cache.digests import file_digest
from harness.config import implied
from harness.errors import ConfigError
from harness.training.peft_artifacts import FORMAT
from harness.registry import ComponentRegistry, build_config
from harness.training.loop import LoopConfig, batches, loss_of, optimise
from harness.training.data import Example, listwise_groups, split_by_query

if TYPE_CHECKING:
    from harness.training.stage import Adapter

logger = logging.getLogger(__name__)
CHECKPOINTS = "train-checkpoints"  # folder under the cache root; one subfolder per adapter key


@dataclass
class SampleTrainConfig(LoopConfig):
    source: str = option("msmarco_sample", "the training data: the msmarco-train-sample file", choices=("msmarco_sample",))
    file: Optional[str] = option(None, "the JSONL file; null = <data root>/msmarco-train-sample/train.jsonl")
    query_limit: int = option(0, "train on the file's first N queries only (0 = all)", ge=0)
    collection: Optional[str] = option(
        "msmarco-passage-mini/trec-dl-2019", "dataset whose passages join the mining corpus (null: the file's alone)"
    )
    negatives: str = option(
        "mined", "mined (BM25 over the corpus), given (the file's own) or both", choices=("mined", "given", "both")
    )
    n_negatives: int = option(3, "negatives per query in each group (queries with fewer are left out)", ge=1)
    mine_lo: int = option(0, "mined negatives come from BM25 ranks [mine_lo, mine_hi), positives left out", ge=0)
    mine_hi: int = option(30, "end (exclusive) of the BM25 ranks mined", ge=1, le=1000)
    teacher: str = option(
        "none",
        "none, or bi_encoder: drop mined negatives the packaged bi-encoder scores "
        "within teacher_margin of the positive (likely false negatives)",
        choices=("none", "bi_encoder"),
    )
    teacher_margin: float = option(
        0.0, "teacher: drop a negative scoring above (positive - margin), cosine units", ge=-2.0, le=2.0
    )
    loss: str = option(
        "listwise", "listwise (softmax over 1 positive + n negatives) or pairwise", choices=("listwise", "pairwise")
    )
    pairwise: str = option(
        "ranknet", "pairwise loss: ranknet (logistic on score differences) or margin (hinge)", choices=("ranknet", "margin")
    )
    margin: float = option(1.0, "pairwise=margin: the hinge's margin (in score units)", gt=0)
    max_length: int = option(192, "tokens of query + passage (cross-encoder) or passage kept while training", ge=5, le=4096)
    warmup_fraction: float = option(0.1, "linear schedule: warm up over this share of the steps, then decay to 0", ge=0, lt=1)
    checkpoint_every: int = option(
        50, "optimizer steps between checkpoints (0 = none); a killed training resumes from its last one", ge=0
    )


def data_path(config: SampleTrainConfig, data_root: Path) -> Path:
    path = Path(config.file).expanduser() if config.file else Path(data_root) / msmarco_sample.FILE
    if not path.is_file():
        raise ConfigError(
            f"train.file: {path} does not exist (train=msmarco_sample reads the msmarco-train-sample "
            "JSONL; set train.file= or data_root=)"
        )
    return path


def check(config: SampleTrainConfig) -> None:
    if config.part != "reranker":
        raise ConfigError("train=msmarco_sample trains a reranker: train.part must be reranker")
    if config.mine_lo >= config.mine_hi:
        raise ConfigError(f"train.mine_lo={config.mine_lo} must be below train.mine_hi={config.mine_hi}")
    if config.negatives == "given" and config.teacher != "none":
        raise ConfigError("train.teacher filters mined negatives: use train.negatives=mined or both")


def pairwise_loss(scorer: Any, batch, text: Callable[[str], str], kind: str, margin: float):
    """Mean over each group's (positive, negative) pairs: RankNet's logistic loss or a hinge."""
    import torch.nn.functional as F

    width = 1 + min(len(neg) for _, _, neg in batch)
    queries = [q for q, _, _ in batch for _ in range(width)]
    passages = [text(d) for _, pos, neg in batch for d in [pos, *neg[: width - 1]]]
    scores = float(getattr(scorer, "loss_scale", 1.0)) * scorer.score(queries, passages).view(len(batch), width)
    difference = scores[:, :1] - scores[:, 1:]
    return F.softplus(-difference).mean() if kind == "ranknet" else F.relu(margin - difference).mean()


class _Texts:
    """Passage text by id: the file's passages, then the collection's."""

    def __init__(self, sample: msmarco_sample.Sample, collection: Any | None):
        self._own, self._store = sample.passages, collection.docs_store() if collection is not None else None

    def __call__(self, doc_id: str) -> str:
        if doc_id in self._own or self._store is None:
            return self._own[doc_id]  # a KeyError names an id neither the file nor a collection has
        return self._store.get(doc_id).default_text()


def negative_pools(config: SampleTrainConfig, sample, collection, text, pm, ctx) -> tuple[dict, dict]:
    """Each query's negatives (mined, given or both) and the mining figures for training.json."""
    info: dict[str, Any] = {}
    pools: dict[str, list[str]] = {q.query_id: [] for q in sample.queries}
    if config.negatives in ("mined", "both"):
        registry = ComponentRegistry(pm)
        own = hard_negatives.corpus_context(ctx, config.collection)
        widest = max(len(q.positives) for q in sample.queries)
        retriever = registry.create(
            "retriever", {**implied("mining"), "top_k": config.mine_hi + widest + 5}, own, where="train=msmarco_sample (mining)"
        )
        corpus = hard_negatives.MiningCorpus(sample, collection)
        run, run_key = hard_negatives.rankings(retriever, corpus, sample)
        mined = hard_negatives.cached_pools(ctx.cache, run_key, sample, run, text, config.mine_lo, config.mine_hi)
        if config.teacher == "bi_encoder":
            teacher = registry.create("reranker", {"name": "bi_encoder"}, ctx, where="train.teacher=bi_encoder")
            mined, counts = hard_negatives.cached_teacher_filter(
                ctx.cache,
                hard_negatives.pools_key(run_key, config.mine_lo, config.mine_hi),
                teacher,
                sample,
                mined,
                text,
                config.teacher_margin,
            )
            info.update(counts)
        for qid, ids in mined.items():
            pools[qid].extend(ids)
        info["mined_negatives"] = sum(len(v) for v in mined.values())
    if config.negatives in ("given", "both"):
        for q in sample.queries:
            pools[q.query_id].extend(q.negatives)
    return {q: list(dict.fromkeys(ids)) for q, ids in pools.items()}, info


def examples_of(sample, pools: dict, n_negatives: int) -> list[Example]:
    examples = [
        Example(q.query_id, q.text, [(p, 1) for p in q.positives], pools[q.query_id])
        for q in sample.queries
        if len(pools[q.query_id]) >= n_negatives
    ]
    if not examples:
        raise ConfigError(
            f"train=msmarco_sample: no query has {n_negatives} negatives (train.n_negatives); "
            "widen train.mine_lo/mine_hi or use train.negatives=both"
        )
    left = len(sample.queries) - len(examples)
    if left:
        logger.info("%d of %d queries have fewer than %d negatives and are left out", left, len(sample.queries), n_negatives)
    return examples


def fit(reranker: Any, peft_method: Any, train_values: dict, pm: Any, log: Callable[[dict, int], None]) -> Adapter:
    """Train (or load from the cache) and leave the reranker's scorer holding the trained model."""
    from harness.training.stage import adapter_key, fit_adapter, trainable_scorer, training_data_identity

    config = build_config(SampleTrainConfig, train_values, "train")
    check(config)
    ctx = reranker.context
    scorer = trainable_scorer(reranker)
    path = data_path(config, Path(ctx.data_root))
    data = {
        "file": file_digest(path),
        "reader": code_version(msmarco_sample),
        "collection": training_data_identity(config.collection, pm, ctx) if config.collection else None,
    }
    payload = {
        **adapter_key("reranker", reranker, peft_method, config),
        "train_code": code_version(fit),
        "loop_code": code_version(optimise),
        "data": data,
        "adapter_format": FORMAT,
    }
    checkpoints: list[Checkpoint] = []

    def prepare() -> tuple:
        sample = msmarco_sample.read(path)
        if config.query_limit:
            sample.queries = sample.queries[: config.query_limit]
        collection = datasets.load(config.collection, pm, Path(ctx.data_root)) if config.collection else None
        text = _Texts(sample, collection)
        pools, info = negative_pools(config, sample, collection, text, pm, ctx)
        split = split_by_query(examples_of(sample, pools, config.n_negatives), config.validation_fraction, config.seed)
        return split, text, info

    def learn(data: tuple) -> tuple[Any, dict[str, Any]]:
        split, text, info = data
        logger.info(
            "training %s with peft=%s on %s: %d train / %d validation queries, %s negatives, %s loss",
            reranker.name,
            peft_method.name,
            path,
            len(split.train),
            len(split.validation),
            config.negatives,
            config.loss if config.loss == "listwise" else f"pairwise {config.pairwise}",
        )
        checkpoint = (
            Checkpoint(ctx.cache.root / CHECKPOINTS / stable_hash(payload)[:32], config.checkpoint_every)
            if config.checkpoint_every
            else None
        )
        checkpoints.extend([checkpoint] if checkpoint else [])
        with training_length(scorer, config.max_length):
            result = _train(scorer, split, text, config, log, ctx.show_progress, checkpoint)
        return result, {**info, "train_queries": len(split.train), "validation_queries": len(split.validation)}

    adapter = fit_adapter(
        reranker, scorer, peft_method, "adapter", payload, {"train": dataclasses.asdict(config)}, prepare, learn
    )
    for checkpoint in checkpoints:  # the adapter is published: the checkpoint has done its job
        checkpoint.remove()
    return adapter


def _train(scorer, split, text, config: SampleTrainConfig, log, show_progress: bool, checkpoint):
    rng, val_rng = random.Random(config.seed), random.Random(config.seed + 1)
    val_items = listwise_groups(split.validation, config.n_negatives, val_rng)
    val_items = val_rng.sample(val_items, min(len(val_items), config.validation_groups))
    micro = [
        b for _ in range(config.epochs) for b in batches(listwise_groups(split.train, config.n_negatives, rng), config.batch_size)
    ]
    if config.loss == "listwise":

        def loss_fn(batch):
            return loss_of(scorer, batch, "listwise", text)
    else:

        def loss_fn(batch):
            return pairwise_loss(scorer, batch, text, config.pairwise, config.margin)

    return optimise(
        scorer,
        micro,
        val_items,
        loss_fn,
        config,
        str(scorer.device),
        log,
        show_progress,
        warmup_fraction=config.warmup_fraction,
        checkpoint=checkpoint,
    )


class training_length:
    """While training, the scorer keeps at most ``max_length`` tokens (of the pair, or of a passage)."""

    FIELDS = ("max_length", "passage_max_length")

    def __init__(self, scorer: Any, max_length: int):
        self.scorer, self.max_length = scorer, max_length
        self.saved: dict[str, int] = {}

    def __enter__(self):
        for name in self.FIELDS:
            if hasattr(self.scorer, name):
                self.saved[name] = getattr(self.scorer, name)
                setattr(self.scorer, name, min(self.max_length, self.saved[name]))
        return self

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            setattr(self.scorer, name, value)
