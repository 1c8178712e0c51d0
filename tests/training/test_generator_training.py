"""Training the generator with noise (LoRA on noisy contexts), on a tiny Llama and a QA JSONL written here."""

import json
from types import SimpleNamespace

import pytest

from harness.cache import StageCache
from harness.components import Context
from harness.errors import ConfigError, HarnessError
from harness.training.generator import IGNORE, GeneratorTrainConfig, answer_loss, build_items, tokenize_item
from harness.pipeline import run_experiment
from harness.training.loop import optimise
from harness.training.data import split_by_query
from harness_plugins.generator.hf import HFGenerator, HFGeneratorConfig
from harness_plugins.peft.lora import Lora, LoraConfig
from harness_plugins.noise._common import NoiseConfig
from harness_plugins.noise.random import RandomNoise

from ..rag.test_rag_pipeline import ITEMS, config as rag_config, setup  # noqa: F401 (setup: the QA file and tiny LM)

ABSTAIN = "i cannot answer"


def generator(lm, tmp_path):
    config = HFGeneratorConfig(model=str(lm), max_new_tokens=4, abstain_answer=ABSTAIN)
    gen = HFGenerator(config, Context(cache=StageCache(tmp_path), show_progress=False))
    gen.load()
    return gen


def questions():
    return [
        SimpleNamespace(query_id=f"q{i}", text=f"who did {w}", answers=[w], gold_doc_ids=[f"g{i}"])
        for i, w in enumerate(["ann", "bob", "carl", "paris"])
    ]


def make_noise(ratio, position, seed):
    noise = RandomNoise(NoiseConfig(k=3, ratio=ratio, gold_position=position, seed=seed), None)
    noise.prepare([f"g{i}" for i in range(4)] + [f"n{i}" for i in range(20)])
    return noise


def text(doc_id):
    return {"g0": "ann did it", "g1": "bob did it", "g2": "carl did it", "g3": "paris did it"}.get(doc_id, "bob is ann")


def test_items_target_the_answer_with_gold_and_abstain_without(setup, tmp_path):
    _, _, lm = setup
    gen = generator(lm, tmp_path)
    config = GeneratorTrainConfig(ratios=[0.0, 1.0], positions=["first", "last"], k=3)
    items = build_items(questions(), config, 0, make_noise, {}, {}, text, gen)
    assert len(items) == 4 and {i.noise_ratio for i in items} <= {0.0, 1.0}
    for item, q in zip(items, questions()):
        gold_in_prompt = text(q.gold_doc_ids[0]) in item.prompt
        assert item.target == (q.answers[0] if item.noise_ratio < 1 else ABSTAIN)
        assert gold_in_prompt == (item.noise_ratio < 1)
        assert item.prompt.count(f"Question: {q.text}") == 1
    again = build_items(questions(), config, 0, make_noise, {}, {}, text, gen)
    assert [i.prompt for i in again] == [i.prompt for i in items]  # seeded
    epochs = [[i.noise_ratio for i in build_items(questions(), config, e, make_noise, {}, {}, text, gen)] for e in range(6)]
    assert len({tuple(e) for e in epochs}) > 1  # new draws every epoch


def test_only_the_answer_and_end_of_turn_are_learnt(setup, tmp_path):
    _, _, lm = setup
    gen = generator(lm, tmp_path)
    [item] = build_items(questions()[:1], GeneratorTrainConfig(ratios=[0.0], k=3), 0, make_noise, {}, {}, text, gen)
    ids, labels = tokenize_item(gen.tokenizer, item)
    learnt = [t for t in labels if t != IGNORE]
    assert gen.tokenizer.decode(learnt) == "ann </s>"
    assert labels[: len(ids) - len(learnt)] == [IGNORE] * (len(ids) - len(learnt))


def test_split_is_question_disjoint_and_seeded():
    split = split_by_query(questions(), 0.25, seed=0)  # the rerankers' split serves the generator too
    train, val = split.train, split.validation
    assert len(val) == 1 and not {q.query_id for q in train} & {q.query_id for q in val}
    assert [q.query_id for q in split_by_query(questions(), 0.25, seed=0).validation] == [q.query_id for q in val]


def test_lora_on_a_decoder_targets_q_and_v_and_one_step_lowers_the_loss(setup, tmp_path):
    import torch

    _, _, lm = setup
    gen = generator(lm, tmp_path)
    lora = Lora(LoraConfig(r=8, target_modules="qv"), None)
    gen.model = lora.apply(gen.model)
    # r * (in + out) per projection: q 32 -> 32, v 32 -> 16 (2 key/value heads of 8), 2 layers.
    assert sum(p.numel() for p in gen.model.parameters() if p.requires_grad) == 2 * 8 * ((32 + 32) + (32 + 16))
    items = build_items(questions(), GeneratorTrainConfig(ratios=[0.0], k=3), 0, make_noise, {}, {}, text, gen)
    batch = [tokenize_item(gen.tokenizer, i) for i in items]
    pad = gen.tokenizer.pad_token_id
    with torch.no_grad():
        before = float(answer_loss(gen.model, pad, batch))
    config = GeneratorTrainConfig(lr=5e-2, max_steps=1, batch_size=4)
    optimise(gen, [batch], [], lambda b: answer_loss(gen.model, pad, b), config, show_progress=False)
    with torch.no_grad():
        assert float(answer_loss(gen.model, pad, batch)) < before


def train_config(root, data, lm, **train):
    cfg = rag_config(root, data, lm, {"name": "random", "k": 2, "ratio": 0.5, "gold_position": "first", "seed": 0})
    cfg["generator"]["abstain_answer"] = ABSTAIN
    cfg["peft"] = {"name": "lora", "r": 4, "target_modules": "qv"}
    cfg["train"] = {
        "part": "generator",
        "dataset": f"qa-jsonl:{data}",
        "k": 2,
        "max_steps": 2,
        "batch_size": 2,
        "validation_fraction": 0.25,
        "eval_every": 1,
        "lr": 1e-2,
        **train,
    }
    return cfg


def test_train_with_noise_then_answer_then_reload_the_adapter(setup):
    root, data, lm = setup
    base = run_experiment(rag_config(root, data, lm, {"name": "random", "k": 2, "ratio": 0.5, "seed": 0}))
    trained = run_experiment(train_config(root, data, lm))
    m = trained.metrics
    assert m["train_steps"] == 2 and m["trainable_parameters"] == 2 * 4 * ((32 + 32) + (32 + 16))
    assert m["train_questions"] == 3 and m["validation_questions"] == 1 and 0 < m["trainable_share"] < 0.1
    meta = json.loads((trained.run_dir / "adapter" / "metadata.json").read_text())
    assert meta["part"] == "generator" and meta["method"] == "lora"
    assert trained.info["cache"].get("generator-adapter.miss") == 1
    assert trained.info["cache"].get("generate.miss") == 1  # the answers are keyed by the adapter
    answers = [json.loads(line)["answer"] for line in (trained.run_dir / "answers.jsonl").read_text().splitlines()]

    again = run_experiment(train_config(root, data, lm))
    assert again.info["cache"].get("generator-adapter.hit") == 1 and again.info["cache"].get("generate.hit") == 1

    cfg = rag_config(root, data, lm, {"name": "random", "k": 2, "ratio": 0.5, "gold_position": "first", "seed": 0})
    cfg.update(
        peft={"name": "lora", "r": 4, "target_modules": "qv"},
        adapter=str(trained.run_dir / "adapter"),
        use_cache=False,
        experiment_name="reload",
    )
    cfg["generator"]["abstain_answer"] = ABSTAIN
    loaded = run_experiment(cfg)
    reloaded = [json.loads(line)["answer"] for line in (loaded.run_dir / "answers.jsonl").read_text().splitlines()]
    assert reloaded == answers
    assert base.run_dir != trained.run_dir


@pytest.mark.parametrize(
    "train, match",
    [
        ({"ratios": [0.0, 1.5]}, r"train: key 'ratios': item 1: 1.5 is out of range \(must be in \[0, 1\]\)"),
        ({"dataset": "msmarco-passage-mini/trec-dl-2019"}, "no question has gold"),
    ],
)
def test_bad_training_settings_are_named(setup, tiny_root, train, match):
    root, data, lm = setup
    cfg = train_config(root, data, lm, **train)
    if "msmarco" in str(train.get("dataset")):
        cfg["data_root"] = str(tiny_root)
    with pytest.raises(HarnessError, match=match):
        run_experiment(cfg)


def test_generator_training_needs_a_generator(setup):
    root, data, lm = setup
    cfg = train_config(root, data, lm)
    cfg["generator"] = None
    with pytest.raises(ConfigError, match="needs a generator"):
        run_experiment(cfg)


def test_noise_curves_keep_the_noise_trained_generator_apart():
    from harness.reports.noise_curve import trained_label

    base = {"generator": {"name": "hf"}, "peft": None}
    trained = {
        **base,
        "peft": {"name": "lora"},
        "train": {"part": "generator", "noise": "random", "dataset": "halueval-qa/train"},
    }
    assert trained_label(base) == ""
    assert trained_label(trained) == " + lora noise-trained (random noise, halueval-qa/train)"
    assert "adapter /a" in trained_label({**base, "peft": {"name": "lora"}, "adapter": "/a"})
    reranker_trained = {**base, "train": {"part": "reranker"}}
    assert trained_label(reranker_trained) == ""


def test_plot_legend_names_only_what_differs():
    from harness.reports.noise_curve import legend_names

    groups = [
        "ds | lm | noise=random gold=first k=5",
        "ds | lm + lora noise-trained | noise=random gold=first k=5",
        "ds | lm + lora noise-trained | noise=hard gold=first k=5",
    ]
    names, title = legend_names(groups)
    assert names == ["base | noise=random", "+ lora noise-trained | noise=random", "+ lora noise-trained | noise=hard"]
    assert title == "ds | lm | gold=first k=5"


def test_hard_noise_training_ranks_the_training_questions_with_the_first_stage(setup, monkeypatch):
    import harness.training.generator as gt

    root, data, lm = setup
    seen = {}
    original = gt.build_items

    def spy(queries, config, epoch, make_noise, rankings, *rest):
        seen.update(rankings)
        return original(queries, config, epoch, make_noise, rankings, *rest)

    monkeypatch.setattr(gt, "build_items", spy)
    result = run_experiment(train_config(root, data, lm, noise="hard", seed=1))
    assert result.metrics["train_steps"] == 2
    # BM25 ranked every training question's corpus; hard noise draws from those rankings
    assert set(seen) == {item["id"] for item in ITEMS} and all(len(v) > 1 for v in seen.values())
