"""Training a generator with noise: a PEFT method (LoRA) on noisy contexts of a QA train split.

The seed's remedy for hallucination under retrieval noise. Each training
question gets a context from the same noise injectors as evaluation, at a
noise ratio drawn from ``ratios`` and a gold position drawn from
``positions`` (fresh draws every epoch). The target is the gold answer when a
gold passage is in the context, and the generator's abstain answer when none
is (rho = 1): the model learns to use the passages and to say it cannot
answer. The loss is token cross-entropy on the answer only (the prompt is
masked), and the prompt is made exactly as at inference (``generator.prompts``).
The training questions and their passages come from their own split, never
from the test split.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from harness.data import datasets
from harness.bounds import Bounds
from harness.cache import code_version
from harness.components import option
from harness.errors import DataError
from harness.training.peft_artifacts import FORMAT as ADAPTER_FORMAT
from harness.registry import build_config
from harness.training.stage import Adapter, adapter_key, fit_adapter, training_data_identity
from harness.training.loop import LoopConfig, batches, optimise
from harness.training.data import split_by_query

logger = logging.getLogger(__name__)
IGNORE = -100  # label of prompt and padding tokens: no loss


@dataclass
class GeneratorTrainConfig(LoopConfig):
    part: str = option("generator", "what is trained: generator", choices=("generator",))
    dataset: str = option("halueval-qa/train", "QA split with gold answers and gold passages")
    query_limit: int = option(0, "train on the first n questions (0 = all)", ge=0)
    noise: str = option("random", "noise injector of the training contexts: random, hard, counterfactual")
    ratios: list = option(
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        "noise ratios drawn uniformly per question and epoch",
        items=Bounds(ge=0, le=1),
        min_items=1,
    )
    positions: list = option(
        ["first", "middle", "last"],
        "gold positions drawn uniformly per question and epoch",
        items=Bounds(choices=("first", "middle", "last")),
        min_items=1,
    )
    k: int = option(5, "passages per context (as the evaluation's noise.k)", ge=1)
    max_length: int = option(1536, "prompt + answer tokens; longer examples are left out (and counted)", ge=1)


@dataclass
class Item:
    query_id: str
    prompt: str
    target: str
    noise_ratio: float


def build_items(
    queries: Sequence[Any],
    config: GeneratorTrainConfig,
    epoch: int,
    make_noise: Callable,
    rankings: dict[str, list[str]],
    positives: dict[str, set[str]],
    text: Callable[[str], str],
    generator: Any,
) -> list[Item]:
    """One noisy-context example per question; ratio and gold position drawn per (seed, epoch, question)."""
    abstain = generator.config.abstain_answer
    rows = []
    for q in queries:
        rng = random.Random(f"{config.seed}:{epoch}:{q.query_id}")
        ratio, position = float(rng.choice(config.ratios)), rng.choice(config.positions)
        gold = list(q.gold_doc_ids)
        candidates = [d for d in rankings.get(q.query_id, []) if d not in positives.get(q.query_id, set())]
        ids = make_noise(ratio, position, config.seed + epoch).inject(q, gold, candidates)
        target = q.answers[0] if set(ids) & set(gold) else abstain
        rows.append((q.query_id, q.text, [text(d) for d in ids], target, ratio))
    prompts = generator.prompts([r[1] for r in rows], [r[2] for r in rows])
    return [Item(qid, prompt, target, ratio) for (qid, _, _, target, ratio), prompt in zip(rows, prompts)]


def tokenize_item(tokenizer: Any, item: Item) -> tuple[list[int], list[int]]:
    """(input ids, labels): the answer, closed by the end-of-turn token, is the only thing learnt."""
    prompt = tokenizer(item.prompt, add_special_tokens=False)["input_ids"]
    answer = tokenizer(item.target + (tokenizer.eos_token or ""), add_special_tokens=False)["input_ids"]
    return prompt + answer, [IGNORE] * len(prompt) + answer


def answer_loss(model: Any, pad_id: int, batch: Sequence[tuple[list[int], list[int]]]) -> Any:
    """Mean token cross-entropy over the answers of a right-padded batch."""
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (tokens, targets) in enumerate(batch):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        labels[row, : len(targets)] = torch.tensor(targets)
        mask[row, : len(tokens)] = 1
    device = next(model.parameters()).device
    return model(input_ids=ids.to(device), attention_mask=mask.to(device), labels=labels.to(device)).loss


def fit(
    generator: Any,
    peft_method: Any,
    train_values: dict,
    pm: Any,
    make_noise: Callable[[dict], Any],
    rank: Callable[[str, Any, list], dict[str, dict[str, float]]],
    log: Callable[[dict, int], None],
    ranker: Any = None,
) -> Adapter:
    """Train the generator (or load its adapter from the stage cache); leaves ``generator.model`` trained.

    ``make_noise(values)`` builds a noise injector from its config values (name
    ``train.noise``); ``rank(dataset_id, dataset, queries)`` runs the experiment's
    first stage on the training questions (only for noise kinds that draw from a ranking);
    ``ranker`` identifies that first stage (its config) in the adapter's cache key.
    """
    config = build_config(GeneratorTrainConfig, train_values, "train")
    ctx = generator.context
    generator.load()
    payload = {
        **adapter_key("generator", generator, peft_method, config),
        "train_code": [code_version(optimise), code_version(fit)],
        "data": training_data_identity(config.dataset, pm, ctx),
        "adapter_format": ADAPTER_FORMAT,
        "ranker": ranker if config.noise != "random" else None,
    }  # hard noise draws from its ranking

    def learn(data: tuple) -> tuple[Any, dict[str, Any]]:
        train_items, val_items, counts = data
        logger.info(
            "training generator %s with peft=%s on %s: %d train / %d validation items (%s)",
            generator.name,
            peft_method.name,
            config.dataset,
            len(train_items),
            len(val_items),
            counts,
        )
        pad_id = generator.tokenizer.pad_token_id
        if pad_id is None:
            pad_id = generator.tokenizer.eos_token_id
        micro = batches(train_items, config.batch_size)
        result = optimise(
            generator,
            micro,
            val_items,
            lambda b: answer_loss(generator.model, pad_id, b),
            config,
            str(next(generator.model.parameters()).device),
            log,
            ctx.show_progress,
        )
        return result, {"train_items": len(train_items), **counts}

    return fit_adapter(
        generator,
        generator,
        peft_method,
        "generator-adapter",
        payload,
        {"train": dataclasses.asdict(config), "part": "generator"},
        lambda: _items(generator, config, pm, Path(ctx.data_root), make_noise, rank),
        learn,
        what="generator adapter",
    )


def _items(generator, config: GeneratorTrainConfig, pm, data_root: Path, make_noise, rank):
    dataset = datasets.load(config.dataset, pm, data_root)
    queries = datasets.queries(dataset, config.dataset, config.query_limit or None)
    usable = [q for q in queries if getattr(q, "answers", None) and getattr(q, "gold_doc_ids", None)]
    if not usable:
        raise DataError(
            f"train.dataset={config.dataset}: no question has gold answers and gold passages; "
            "generator training needs a QA dataset (halueval-qa/train, qa-jsonl:<file>)"
        )
    qrels = datasets.qrels(dataset, config.dataset)
    positives = {qid: {d for d, rel in rels.items() if rel > 0} for qid, rels in qrels.items()}
    rankings: dict[str, list[str]] = {}
    if config.noise != "random":  # hard (and counterfactual's fallback) draw from the first stage's ranking
        run = rank(config.dataset, dataset, usable)
        rankings = {qid: sorted(docs, key=lambda d: -docs[d]) for qid, docs in run.items()}
    store = dataset.docs_store()
    text = lambda doc_id: store.get(doc_id).default_text()  # noqa: E731
    split = split_by_query(usable, config.validation_fraction, config.seed)  # query-disjoint, seeded
    train_q, val_q = split.train, split.validation
    tokenizer = generator.tokenizer
    counts = {"train_questions": len(train_q), "validation_questions": len(val_q), "too_long": 0}

    def tokenized(items: list[Item]) -> list[tuple[list[int], list[int]]]:
        out = []
        for item in items:
            ids, labels = tokenize_item(tokenizer, item)
            if len(ids) > config.max_length:
                counts["too_long"] += 1
                continue
            out.append((ids, labels))
        return out

    injectors: dict[tuple, Any] = {}

    def noise(ratio: float, position: str, seed: int) -> Any:  # one prepared injector per setting
        if (ratio, position, seed) not in injectors:
            injector = make_noise({"name": config.noise, "k": config.k, "ratio": ratio, "gold_position": position, "seed": seed})
            if injector.needs_corpus:
                injector.prepare(corpus_ids)
            injectors[ratio, position, seed] = injector
        return injectors[ratio, position, seed]

    corpus_ids = [doc.doc_id for doc in dataset.docs_iter()]
    train_items = []
    for epoch in range(config.epochs):  # a new order, and new ratios and positions, every epoch
        order = random.Random(f"{config.seed}:order:{epoch}").sample(train_q, len(train_q))
        train_items += tokenized(build_items(order, config, epoch, noise, rankings, positives, text, generator))
    val_items = tokenized(build_items(val_q, config, 0, noise, rankings, positives, text, generator))
    val_items = random.Random(config.seed + 1).sample(val_items, min(len(val_items), config.validation_groups))
    if counts["too_long"]:
        logger.warning(
            "generator training: %d example(s) longer than train.max_length=%d tokens were left out",
            counts["too_long"],
            config.max_length,
        )
    return train_items, val_items, counts
