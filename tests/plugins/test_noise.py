"""Noise injectors: exact counts, no gold leak, determinism, gold position."""

import math
from pathlib import Path

import pytest

from harness.cache import StageCache
from harness.components import Context
from harness.errors import ConfigError
from harness.data.qa_data import QAQuery
from harness_plugins.noise._common import NoiseConfig, noise_count
from harness_plugins.noise.counterfactual import CounterfactualNoise
from harness_plugins.noise.hard import HardNoise
from harness_plugins.noise.random import RandomNoise
from harness_plugins.noise.retrieved import RetrievedContext

CORPUS = [f"d{i}" for i in range(200)]


def make(cls, tmp_path: Path, **kw):
    injector = cls(NoiseConfig(**kw), Context(cache=StageCache(tmp_path)))
    injector.prepare(CORPUS)
    return injector


def query(qid="q1", cf=()):
    return QAQuery(qid, "question?", ("a",), ("d1", "d2"), tuple(cf))


@pytest.mark.parametrize("k", [1, 3, 5, 10])
@pytest.mark.parametrize("ratio", [0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0])
@pytest.mark.parametrize("cls", [RandomNoise, HardNoise])
def test_exact_counts_and_no_gold_leak(tmp_path, cls, k, ratio):
    gold = [f"d{i}" for i in range(k)]  # as many gold passages as slots
    ranking = CORPUS[::-1]
    ctx = make(cls, tmp_path, k=k, ratio=ratio).inject(query(), gold, ranking)
    n_noise = math.ceil(round(k * ratio, 9))
    noise = [d for d in ctx if d not in gold]
    assert len(ctx) == k and len(set(ctx)) == k
    assert len(noise) == n_noise
    assert [d for d in ctx if d in gold] == gold[: k - n_noise]


def test_float_ratio_is_not_rounded_up():
    assert noise_count(5, 0.6) == 3 and noise_count(10, 0.3) == 3 and noise_count(5, 0.61) == 4


def test_random_noise_is_seeded_per_query(tmp_path):
    a = make(RandomNoise, tmp_path, k=5, ratio=0.8, seed=1)
    b = make(RandomNoise, tmp_path, k=5, ratio=0.8, seed=1)
    c = make(RandomNoise, tmp_path, k=5, ratio=0.8, seed=2)
    first = a.inject(query("q1"), ["d1"], [])
    assert first == b.inject(query("q1"), ["d1"], [])
    assert first != c.inject(query("q1"), ["d1"], [])
    assert first != a.inject(query("q2"), ["d1"], [])


def test_hard_noise_takes_the_top_ranked_non_gold(tmp_path):
    ctx = make(HardNoise, tmp_path, k=4, ratio=0.75).inject(query(), ["d1"], ["d9", "d1", "d8", "d7", "d6"])
    assert ctx == ["d1", "d9", "d8", "d7"]


@pytest.mark.parametrize(
    "position, expected",
    [("first", ["G", "a", "b", "c", "d"]), ("middle", ["a", "b", "G", "c", "d"]), ("last", ["a", "b", "c", "d", "G"])],
)
def test_gold_position(tmp_path, position, expected):
    ctx = make(HardNoise, tmp_path, k=5, ratio=0.8, gold_position=position).inject(query(), ["G"], list("abcdef"))
    assert ctx == expected


def test_counterfactual_first_then_hard(tmp_path):
    inj = make(CounterfactualNoise, tmp_path, k=4, ratio=0.75)
    assert inj.inject(query(cf=["c1"]), ["d1"], ["h1", "c1", "h2"]) == ["d1", "c1", "h1", "h2"]
    with pytest.raises(ConfigError, match="no counterfactual"):
        inj.inject(query(), ["d1"], ["h1"])


@pytest.mark.parametrize("cls", [HardNoise, RandomNoise])
def test_only_counterfactual_noise_draws_a_questions_own_counterfactuals(tmp_path, cls):
    own = [f"d{i}" for i in range(10, 160)]  # three quarters of the corpus, ranked first
    ranking = own + [d for d in CORPUS if d not in own]
    ctx = make(cls, tmp_path, k=5, ratio=0.8).inject(query(cf=own), ["d1"], ranking)
    assert len(ctx) == 5 and not set(ctx) & set(own)
    assert set(make(CounterfactualNoise, tmp_path, k=5, ratio=0.8).inject(query(cf=own), ["d1"], ranking)) <= {"d1", *own}


def test_retrieved_keeps_the_ranking(tmp_path):
    assert make(RetrievedContext, tmp_path, k=2).inject(query(), ["d1"], ["x", "d1", "y"]) == ["x", "d1"]


@pytest.mark.parametrize("kw, key", [({"ratio": 1.5}, "ratio"), ({"k": 0}, "'k'"), ({"gold_position": "top"}, "gold_position")])
def test_bad_config_names_the_key(tmp_path, kw, key):
    with pytest.raises(ConfigError, match=key):
        make(HardNoise, tmp_path, **kw)
