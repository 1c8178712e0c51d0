"""The training loop on a tiny cross-encoder: losses go down, early stopping, clear errors."""

import random

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from harness.errors import ConfigError
from harness.training.loop import TrainConfig, loss_of, train
from harness.training.data import Example

WORDS = "manhattan project oppenheimer led cat fur photosynthesis light paris tower eiffel".split()
PASSAGES = {
    "p1": "oppenheimer led manhattan project",
    "p2": "cat fur",
    "p3": "photosynthesis light",
    "p4": "eiffel tower paris",
    "p5": "cat light fur",
}


class TinyCrossEncoder:
    """Query and passage through one tiny BERT with a one-logit head."""

    def __init__(self):
        torch.manual_seed(0)
        config = BertConfig(
            vocab_size=len(WORDS) + 4,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            num_labels=1,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
        )
        self.model = BertForSequenceClassification(config)

    def encode(self, query, passage):
        ids = [1] + [WORDS.index(w) + 4 for w in query.split() if w in WORDS] + [2]
        return ids + [WORDS.index(w) + 4 for w in passage.split() if w in WORDS] + [2]

    def score(self, queries, passages):
        rows = [self.encode(q, p) for q, p in zip(queries, passages)]
        width = max(map(len, rows))
        ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
        mask = (ids != 0).long()
        return self.model(input_ids=ids, attention_mask=mask).logits.squeeze(-1)


def examples(n):
    return [Example(f"q{i}", "manhattan project", [("p1", 3)], ["p2", "p3", "p4", "p5"]) for i in range(n)]


QRELS = {f"q{i}": {"p1": 3, "p2": 0} for i in range(10)}


@pytest.mark.parametrize("loss", ["listwise", "pointwise"])
def test_one_step_reduces_the_loss(loss):
    scorer = TinyCrossEncoder()
    config = TrainConfig(loss=loss, negatives=3, batch_size=4, lr=1e-2, max_steps=1, validation_fraction=0)
    from harness.training.loop import make_items

    items = make_items(examples(4), QRELS, config, random.Random(0))[:4]
    with torch.no_grad():
        before = float(loss_of(scorer, items, loss, PASSAGES.get))
    optimizer = torch.optim.AdamW(scorer.model.parameters(), lr=1e-2)
    loss_of(scorer, items, loss, PASSAGES.get).backward()
    optimizer.step()
    with torch.no_grad():
        after = float(loss_of(scorer, items, loss, PASSAGES.get))
    assert after < before


@pytest.mark.slow  # trains for epochs, beyond a tiny step
def test_train_learns_to_rank_the_positive_first():
    scorer = TinyCrossEncoder()
    config = TrainConfig(loss="listwise", negatives=3, batch_size=4, lr=5e-3, epochs=5, eval_every=2, patience=50)
    result = train(scorer, examples(8), examples(2), QRELS, PASSAGES.get, config, show_progress=False)
    assert result.steps == 10 and result.validation and result.peak_memory_mb > 0
    assert result.losses[-1][1] < result.losses[0][1]
    with torch.no_grad():
        scores = scorer.score(["manhattan project"] * 5, list(PASSAGES.values()))
    assert int(scores.argmax()) == 0


def test_early_stopping_stops_on_a_flat_validation_loss():
    scorer = TinyCrossEncoder()
    # lr must be > 0; at 1e-12 the validation loss moves by far less than the 1e-6 counted as an improvement.
    config = TrainConfig(loss="listwise", negatives=3, batch_size=1, lr=1e-12, epochs=3, eval_every=1, patience=2)
    result = train(scorer, examples(8), examples(2), QRELS, PASSAGES.get, config, show_progress=False)
    assert result.steps == 3 and result.best_step == 1  # no improvement after the first check


def test_errors():
    scorer = TinyCrossEncoder()
    with pytest.raises(ConfigError, match=r"^train: key 'loss': 'margin' is not one of listwise, pointwise, inbatch$"):
        train(scorer, examples(2), [], QRELS, PASSAGES.get, TrainConfig(loss="margin"), show_progress=False)
    with pytest.raises(ConfigError, match="needs a bi-encoder-style scorer"):
        train(scorer, examples(2), [], QRELS, PASSAGES.get, TrainConfig(loss="inbatch"), show_progress=False)
    scorer.model.requires_grad_(False)
    with pytest.raises(ConfigError, match="nothing to train"):
        train(scorer, examples(2), [], QRELS, PASSAGES.get, TrainConfig(), show_progress=False)


@pytest.mark.slow  # trains for epochs, beyond a tiny step
def test_the_best_validation_weights_are_restored():
    """Validation disagrees with training (its positive is a training negative): the loss rises, step 1 is kept."""
    scorer = TinyCrossEncoder()
    misleading = [Example(f"v{i}", "manhattan project", [("p2", 3)], ["p1", "p3", "p4"]) for i in range(2)]
    snapshots = {}

    def log(metrics, step):
        if "validation_loss" in metrics:
            snapshots[step] = {n: p.detach().clone() for n, p in scorer.model.named_parameters()}

    config = TrainConfig(loss="listwise", negatives=3, batch_size=2, lr=2e-2, epochs=4, eval_every=1, patience=100)
    result = train(scorer, examples(8), misleading, QRELS, PASSAGES.get, config, log=log, show_progress=False)
    assert result.validation[-1][1] > result.validation[0][1] and result.best_step < result.steps
    best = snapshots[result.best_step]
    assert all(torch.equal(p, best[n]) for n, p in scorer.model.named_parameters())


def test_a_cosine_scorer_s_loss_scale_sharpens_the_softmax():
    import torch

    scorer = TinyCrossEncoder()
    batch = [("manhattan project", "p1", ["p2", "p3", "p4"])]
    with torch.no_grad():
        flat = float(loss_of(scorer, batch, "listwise", PASSAGES.get))
        scorer.loss_scale = 20.0
        sharp = float(loss_of(scorer, batch, "listwise", PASSAGES.get))
        scores = 20.0 * scorer.score(["manhattan project"] * 4, [PASSAGES[d] for d in ["p1", "p2", "p3", "p4"]])
    assert sharp == pytest.approx(float(torch.nn.functional.cross_entropy(scores[None], torch.tensor([0])))) != flat


def test_the_training_code_is_part_of_cache_keys():
    from harness.cache import code_version

    assert not code_version(train).endswith(":unknown") and code_version(train) == code_version(loss_of)
