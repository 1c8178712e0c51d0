"""A small, explicit training loop for any scorer with differentiable pair scores.

The scorer exposes ``model`` (a torch module, possibly PEFT-wrapped) and
``score(queries, passages) -> Tensor[n]``; bi-encoders may also expose
``score_in_batch(queries, passages) -> Tensor[nq, np]`` for in-batch negatives.
Losses: pointwise (BCE on graded labels), listwise (softmax over one positive
and n negatives), inbatch (each query's positive against the batch's others).
"""

from __future__ import annotations

import contextlib
import logging
import random
import resource
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from harness import bounds
from harness.components import option
from harness.errors import ConfigError
from harness.training.data import Example, listwise_groups, pointwise_pairs

logger = logging.getLogger(__name__)
LOSSES = ("listwise", "pointwise", "inbatch")


@dataclass
class LoopConfig:
    """The optimisation settings every training (reranker or generator) shares."""

    part: str = option(
        "reranker", "what is trained: reranker (pair scores) or generator (answers, LM loss)", choices=("reranker", "generator")
    )
    epochs: int = option(1, "passes over the training items", ge=1)
    max_steps: int = option(0, "stop after this many optimizer steps (0 = no limit)", ge=0)
    batch_size: int = option(8, "items per micro-batch", ge=1)
    grad_accumulation: int = option(1, "micro-batches per optimizer step", ge=1)
    lr: float = option(2e-4, "AdamW learning rate", gt=0)
    weight_decay: float = option(0.01, "AdamW weight decay", ge=0)
    validation_fraction: float = option(0.2, "share of training queries held out for early stopping", ge=0, lt=1)
    eval_every: int = option(25, "optimizer steps between validation losses", ge=1)
    validation_groups: int = option(64, "validation items sampled once (bounds the cost of each check)", ge=1)
    patience: int = option(3, "validations without improvement before stopping", ge=1)
    seed: int = option(0, "seed of sampling, shuffling and initialisation", ge=0)
    mixed_precision: bool = option(True, "bf16 autocast on CUDA (ignored on CPU)")


@dataclass
class TrainConfig(LoopConfig):
    dataset: str = option("msmarco-passage-mini/trec-dl-2019", "dataset whose judgments train the model")
    loss: str = option("listwise", "training loss (inbatch: bi-encoders only)", choices=LOSSES)
    negatives: int = option(7, "negatives per positive (listwise) or per query (pointwise)", ge=1)


@dataclass
class TrainResult:
    losses: list[tuple[int, float]] = field(default_factory=list)  # (step, training loss)
    validation: list[tuple[int, float]] = field(default_factory=list)  # (step, validation loss)
    steps: int = 0
    seconds: float = 0.0
    step_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    best_step: int = 0


def batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def loss_of(scorer: Any, batch: Sequence[Any], loss: str, text: Callable[[str], str]):
    """The batch's loss; scores are multiplied by the scorer's ``loss_scale`` first (a softmax
    temperature: a cosine in [-1, 1] is too flat for a softmax, so cosine scorers use 20, as
    sentence-transformers' MultipleNegativesRankingLoss does)."""
    import torch
    import torch.nn.functional as F

    scale = float(getattr(scorer, "loss_scale", 1.0))

    if loss == "pointwise":
        scores = scale * scorer.score([q for q, _, _ in batch], [text(d) for _, d, _ in batch])
        labels = torch.tensor([y for _, _, y in batch], dtype=scores.dtype, device=scores.device)
        return F.binary_cross_entropy_with_logits(scores, labels)
    if loss == "listwise":
        width = 1 + min(len(neg) for _, _, neg in batch)
        queries = [q for q, _, _ in batch for _ in range(width)]
        passages = [text(d) for _, pos, neg in batch for d in [pos, *neg[: width - 1]]]
        scores = scale * scorer.score(queries, passages).view(len(batch), width)
        return F.cross_entropy(scores, torch.zeros(len(batch), dtype=torch.long, device=scores.device))
    if not hasattr(scorer, "score_in_batch"):
        raise ConfigError(f"train.loss=inbatch needs a bi-encoder-style scorer; {type(scorer).__name__} has no score_in_batch")
    scores = scale * scorer.score_in_batch([q for q, _, _ in batch], [text(p) for _, p, _ in batch])
    return F.cross_entropy(scores, torch.arange(len(batch), device=scores.device))


def make_items(examples: list[Example], qrels, config: TrainConfig, rng: random.Random) -> list:
    if config.loss == "pointwise":
        return pointwise_pairs(examples, qrels, config.negatives, rng)
    groups = listwise_groups(examples, config.negatives, rng)
    return [g for g in groups if g[2]] if config.loss == "listwise" else groups


def train(
    scorer: Any,
    train_examples: list[Example],
    validation_examples: list[Example],
    qrels,
    text: Callable[[str], str],
    config: TrainConfig,
    device: str = "cpu",
    log: Callable[[dict, int], None] | None = None,
    show_progress: bool = True,
) -> TrainResult:
    """Train ``scorer.model`` in place; returns the curves and costs. ``text(doc_id)`` gives a passage."""
    bounds.check(config, "train")  # built by build_config, or directly by a caller of this function
    rng = random.Random(config.seed)
    val_rng = random.Random(config.seed + 1)
    val_items = make_items(validation_examples, qrels, config, val_rng)
    val_items = val_rng.sample(val_items, min(len(val_items), config.validation_groups))
    items = [make_items(train_examples, qrels, config, rng) for _ in range(config.epochs)]
    return optimise(
        scorer,
        [b for epoch in items for b in batches(epoch, config.batch_size)],
        val_items,
        lambda batch: loss_of(scorer, batch, config.loss, text),
        config,
        device,
        log,
        show_progress,
    )


def optimise(
    owner: Any,
    micro: list,
    val_items: Sequence[Any],
    loss_fn: Callable[[Any], Any],
    config: LoopConfig,
    device: str = "cpu",
    log: Callable[[dict, int], None] | None = None,
    show_progress: bool = True,
    warmup_fraction: float | None = None,
    checkpoint: Any = None,
) -> TrainResult:
    """AdamW over ``owner.model``'s trainable parameters, one optimizer step per ``grad_accumulation``
    micro-batches; validation loss every ``eval_every`` steps with early stopping, and the weights of
    the best validation loss restored at the end.

    ``warmup_fraction`` (None: a constant learning rate) sets a linear schedule: warm up over that share
    of the steps, then decay linearly to 0. ``checkpoint`` (``harness.training.checkpoints.Checkpoint``) saves the
    whole loop state every ``checkpoint.every`` steps and resumes from its last save."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(config.seed)
    params = [p for p in owner.model.parameters() if p.requires_grad]
    if not params:
        raise ConfigError("nothing to train: the PEFT method left no trainable parameter (peft=none mode=frozen?)")
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.startswith("cuda") and config.mixed_precision else None

    def validation_loss() -> float:
        owner.model.eval()
        with torch.no_grad(), autocast or contextlib.nullcontext():
            values = [float(loss_fn(b)) for b in batches(val_items, config.batch_size)]
        owner.model.train()
        return sum(values) / max(1, len(values))

    result, best, stale, started = TrainResult(), float("inf"), 0, time.perf_counter()
    best_state, step, first = None, 0, 1
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    owner.model.train()
    total = len(micro) // config.grad_accumulation
    if config.max_steps:
        total = min(total, config.max_steps)
    scheduler = None
    if warmup_fraction is not None:
        warmup = int(warmup_fraction * total)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda done: (done + 1) / warmup if done < warmup else max(0.0, (total - done) / max(1, total - warmup))
        )
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is not None:  # resume: weights, optimizer, schedule, curves, early-stopping state, RNG
        owner.model.load_state_dict(saved["weights"], strict=False)
        optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"])
        result.losses, result.validation = list(saved["losses"]), list(saved["validation"])
        best, stale, result.best_step, best_state = saved["best"], saved["stale"], saved["best_step"], saved["best_state"]
        step = first = saved["step"] + 1
        started -= saved.get("seconds", 0.0)  # train_seconds / s per step count the time before the kill too
        logger.info("resuming the training at step %d of %d from %s", first, total, checkpoint.path)
    progress = tqdm(total=total, initial=first - 1, desc="training", disable=not show_progress)
    window = time.perf_counter()
    for step in range(first, total + 1):
        optimizer.zero_grad(set_to_none=True)
        step_loss = 0.0
        for batch in micro[(step - 1) * config.grad_accumulation : step * config.grad_accumulation]:
            with autocast or contextlib.nullcontext():
                value = loss_fn(batch) / config.grad_accumulation
            value.backward()
            step_loss += float(value.detach())
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        result.losses.append((step, step_loss))
        progress.update(1)
        progress.set_postfix(loss=f"{step_loss:.4f}")
        if log:
            log({"train_loss": step_loss}, step)
        if val_items and (step % config.eval_every == 0 or step == total):
            current = validation_loss()
            result.validation.append((step, current))
            if log:
                log({"validation_loss": current}, step)
            if current < best - 1e-6:
                best, stale, result.best_step = current, 0, step
                best_state = {n: p.detach().clone() for n, p in owner.model.named_parameters() if p.requires_grad}
            else:
                stale += 1
                if stale >= config.patience:
                    logger.info("early stop at step %d: validation loss has not improved for %d checks", step, stale)
                    break
        if checkpoint is not None and (step % checkpoint.every == 0 and step < total):
            recent = [v for _, v in result.losses[-checkpoint.every :]]
            logger.info(
                "step %d/%d: loss %.4f (mean of the last %d), %.2f s/step",
                step,
                total,
                sum(recent) / len(recent),
                len(recent),
                (time.perf_counter() - window) / checkpoint.every,
            )
            window = time.perf_counter()
            checkpoint.save(
                {
                    "weights": {n: p.detach() for n, p in owner.model.named_parameters() if p.requires_grad},
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "rng": torch.get_rng_state(),
                    "losses": result.losses,
                    "validation": result.validation,
                    "best": best,
                    "stale": stale,
                    "best_step": result.best_step,
                    "best_state": best_state,
                    "step": step,
                    "seconds": time.perf_counter() - started,
                }
            )
    progress.close()
    if best_state is not None and result.best_step != step:  # keep the weights of the best validation loss
        logger.info("restoring the weights of step %d (best validation loss %.4f)", result.best_step, best)
        owner.model.load_state_dict(best_state, strict=False)
    owner.model.eval()
    result.steps = len(result.losses)
    result.seconds = time.perf_counter() - started
    result.step_seconds = result.seconds / max(1, result.steps)
    result.peak_memory_mb = (
        torch.cuda.max_memory_allocated() / 2**20
        if device.startswith("cuda")
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    return result
