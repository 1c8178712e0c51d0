"""Bounds and choices declared beside each option's help: checked when a config is built, named when wrong."""

import dataclasses
import subprocess
import sys
import typing
from dataclasses import dataclass
from typing import Optional

import pytest

from harness.bounds import Bounds
from harness.cache import StageCache
from harness.components import Context, option
from harness.config import DatasetConfig, RunConfig, check_run_config
from harness.errors import ConfigError
from harness.training.generator import GeneratorTrainConfig
from harness.plugin_manager import get_plugin_manager
from harness.registry import ComponentRegistry, build_config
from harness.training.loop import TrainConfig

# Numeric options that deliberately accept any value, with the reason. Every other
# numeric option of a built-in component or of the run and training configs declares bounds.
DELIBERATELY_UNBOUNDED: dict[str, str] = {}


def create(kind: str, values: dict, tmp_path, where: str):
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    return registry.create(kind, values, Context(cache=StageCache(tmp_path)), where=where)


@pytest.mark.parametrize(
    "bounds, text",
    [
        (Bounds(ge=0), ">= 0"),
        (Bounds(gt=0), "> 0"),
        (Bounds(le=1), "<= 1"),
        (Bounds(lt=0.5), "< 0.5"),
        (Bounds(ge=0, le=1), "in [0, 1]"),
        (Bounds(ge=0, lt=1), "in [0, 1)"),
        (Bounds(gt=0, le=2.5), "in (0, 2.5]"),
        (Bounds(choices=("a", "b")), "one of a, b"),
        (Bounds(items=Bounds(ge=0, le=1), min_items=1), "each in [0, 1]; at least 1 item"),
    ],
)
def test_bounds_describe_themselves(bounds, text):
    assert bounds.describe() == text


@pytest.mark.parametrize(
    "bounds, value, problem",
    [
        (Bounds(ge=0), -1.0, "-1.0 is out of range (must be >= 0)"),
        (Bounds(gt=0), 0, "0 is out of range (must be > 0)"),
        (Bounds(ge=0, lt=1), 1.0, "1.0 is out of range (must be in [0, 1))"),
        (Bounds(ge=0), float("nan"), "nan is out of range (must be >= 0)"),
        (Bounds(ge=0), True, "True is out of range (must be >= 0)"),
        (Bounds(choices=("lucene", "atire")), "bm26", "'bm26' is not one of lucene, atire"),
        (Bounds(items=Bounds(ge=0, le=1)), [0.0, 1.5], "item 1: 1.5 is out of range (must be in [0, 1])"),
        (Bounds(items=Bounds(choices=("first",))), ["top"], "item 0: 'top' is not one of first"),
        (Bounds(min_items=1), [], "[] has 0 item(s) (must have at least 1)"),
        (Bounds(min_items=1), 3, "3 is not a list"),
    ],
)
def test_out_of_bounds_values_say_why(bounds, value, problem):
    assert bounds.violation(value) == problem


@pytest.mark.parametrize(
    "bounds, value",
    [
        (Bounds(ge=0), 0),
        (Bounds(ge=0, le=1), 1.0),
        (Bounds(gt=0), 1e-9),
        (Bounds(choices=("a",)), "a"),
        (Bounds(ge=1), None),
        (Bounds(items=Bounds(ge=0), min_items=1), [0, 2]),
    ],
)
def test_values_within_bounds_pass(bounds, value):
    assert bounds.violation(value) is None


def test_a_default_outside_its_own_bounds_is_refused_where_declared():
    with pytest.raises(ValueError, match=r"option default -1 is out of range \(must be >= 0\)"):
        option(-1, "help", ge=0)


def test_build_config_checks_bounds_after_type_conversion():
    @dataclass
    class Config:
        k: int = option(1, "k", ge=1)
        rate: Optional[float] = option(None, "rate", gt=0)

    assert build_config(Config, {"k": "3", "rate": None}, "x") == Config(3, None)
    with pytest.raises(ConfigError, match=r"^x: key 'k': 0 is out of range \(must be >= 1\)$"):
        build_config(Config, {"k": "0"}, "x")
    with pytest.raises(ConfigError, match=r"^x: key 'rate': -0.5 is out of range \(must be > 0\)$"):
        build_config(Config, {"rate": -0.5}, "x")


@pytest.mark.parametrize(
    "kind, values, message",
    [
        (
            "retriever",
            {"name": "bm25", "k1": -1},
            "retriever=bm25 (retriever 'bm25'): key 'k1': -1.0 is out of range (must be >= 0)",
        ),
        (
            "retriever",
            {"name": "bm25", "b": 1.5},
            "retriever=bm25 (retriever 'bm25'): key 'b': 1.5 is out of range (must be in [0, 1])",
        ),
        (
            "retriever",
            {"name": "bm25", "method": "bm26"},
            "retriever=bm25 (retriever 'bm25'): key 'method': 'bm26' is not one of lucene, robertson, atire, bm25l, bm25+",
        ),
        (
            "retriever",
            {"name": "bm25", "top_k": -5},
            "retriever=bm25 (retriever 'bm25'): key 'top_k': -5 is out of range (must be >= 1)",
        ),
        (
            "retriever",
            {"name": "run", "top_k": -90},
            "retriever=run (retriever 'run'): key 'top_k': -90 is out of range (must be >= 1)",
        ),
        (
            "noise",
            {"name": "random", "ratio": 1.2},
            "noise=random (noise 'random'): key 'ratio': 1.2 is out of range (must be in [0, 1])",
        ),
        (
            "peft",
            {"name": "lora", "dropout": 1.0},
            "peft=lora (peft 'lora'): key 'dropout': 1.0 is out of range (must be in [0, 1))",
        ),
        ("peft", {"name": "lora", "alpha": 0}, "peft=lora (peft 'lora'): key 'alpha': 0.0 is out of range (must be > 0)"),
        ("peft", {"name": "none", "mode": "half"}, "peft=none (peft 'none'): key 'mode': 'half' is not one of frozen, full"),
        (
            "reranker",
            {"name": "cross_encoder", "head": "mlp"},
            "reranker=cross_encoder (reranker 'cross_encoder'): key 'head': 'mlp' is not one of auto, classifier, segment_cosine",
        ),
    ],
)
def test_out_of_range_component_options_name_group_key_value_and_range(kind, values, message, tmp_path):
    with pytest.raises(ConfigError) as err:
        create(kind, values, tmp_path, where=f"{kind}={values['name']}")
    assert str(err.value) == message


def test_a_misspelled_stemmer_lists_pystemmers_languages(tmp_path):
    import Stemmer

    with pytest.raises(ConfigError) as err:
        create("retriever", {"name": "bm25", "stemmer": "englsh"}, tmp_path, where="retriever=bm25")
    assert str(err.value) == (
        "retriever=bm25 (retriever 'bm25'): key 'stemmer': 'englsh' is not one of " + ", ".join(Stemmer.algorithms())
    )
    assert create("retriever", {"name": "bm25", "stemmer": None}, tmp_path, where="retriever=bm25").config.stemmer is None


@pytest.mark.parametrize(
    "schema, values, message",
    [
        (TrainConfig, {"lr": 0}, "train: key 'lr': 0.0 is out of range (must be > 0)"),
        (TrainConfig, {"epochs": 0}, "train: key 'epochs': 0 is out of range (must be >= 1)"),
        (TrainConfig, {"validation_fraction": 1}, "train: key 'validation_fraction': 1.0 is out of range (must be in [0, 1))"),
        (TrainConfig, {"loss": "margin"}, "train: key 'loss': 'margin' is not one of listwise, pointwise, inbatch"),
        (GeneratorTrainConfig, {"ratios": []}, "train: key 'ratios': [] has 0 item(s) (must have at least 1)"),
        (GeneratorTrainConfig, {"positions": ["top"]}, "train: key 'positions': item 0: 'top' is not one of first, middle, last"),
        (GeneratorTrainConfig, {"part": "reranker"}, "train: key 'part': 'reranker' is not one of generator"),
    ],
)
def test_training_options_are_range_checked(schema, values, message):
    with pytest.raises(ConfigError) as err:
        build_config(schema, values, "train")
    assert str(err.value) == message


def test_top_level_values_are_checked_when_the_run_starts():
    with pytest.raises(ConfigError) as err:
        check_run_config({"seed": 0, "dataset": {"id": "x", "query_limit": -3}})
    assert str(err.value) == "run config: key 'dataset.query_limit': -3 is out of range (must be >= 0)"
    with pytest.raises(ConfigError, match=r"^run config: key 'seed': -1 is out of range \(must be >= 0\)$"):
        check_run_config({"seed": -1})
    check_run_config({"seed": 0, "dataset": {"id": "x", "query_limit": None, "binary_relevance_level": 2}})


def test_components_built_directly_are_checked_too(tmp_path):
    from harness_plugins.noise._common import NoiseConfig
    from harness_plugins.noise.hard import HardNoise

    with pytest.raises(ConfigError, match=r"^noise 'HardNoise': key 'k': 0 is out of range \(must be >= 1\)$"):
        HardNoise(NoiseConfig(k=0), Context(cache=StageCache(tmp_path)))


def _numeric(hint) -> bool:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return hint in (int, float) or (typing.get_origin(hint) is typing.Union and len(args) == 1 and args[0] in (int, float))


def _schemas() -> dict[str, type]:
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    found = {
        f"{kind} '{entry.name}'": entry.cls.Config
        for kind in ("retriever", "reranker", "peft", "generator", "noise", "metric", "tracking")
        for entry in registry.entries(kind)
    }
    return {
        **found,
        "train": TrainConfig,
        "train (generator)": GeneratorTrainConfig,
        "run config": RunConfig,
        "dataset": DatasetConfig,
    }


def test_every_numeric_option_of_the_builtins_declares_bounds():
    unbounded = []
    for owner, schema in _schemas().items():
        hints = typing.get_type_hints(schema)
        for f in dataclasses.fields(schema):
            key = f"{owner}: {f.name}"
            if _numeric(hints[f.name]) and "bounds" not in f.metadata and key not in DELIBERATELY_UNBOUNDED:
                unbounded.append(key)
    assert not unbounded, f"numeric options without bounds (declare them, or list them with a reason): {unbounded}"


def test_the_bounds_check_notices_an_unbounded_numeric_option():
    @dataclass
    class Loose:
        k: int = option(1, "no bounds")

    hints = typing.get_type_hints(Loose)
    assert _numeric(hints["k"]) and "bounds" not in dataclasses.fields(Loose)[0].metadata


def test_plugins_list_verbose_shows_the_bounds(capsys):
    from harness.cli.commands import list_plugins

    list_plugins(verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert "            k1 = 0.9  [>= 0]  term-frequency saturation (Anserini's MS MARCO default 0.9)" in lines
    assert any(line.startswith("            ratio = 0.0  [in [0, 1]]  ") for line in lines)


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides, message",
    [
        (["retriever.k1=-1"], "retriever=bm25 (retriever 'bm25'): key 'k1': -1.0 is out of range (must be >= 0)"),
        (["dataset.query_limit=-3"], "run config: key 'dataset.query_limit': -3 is out of range (must be >= 0)"),
        (
            ["retriever=run", "retriever.top_k=-90"],
            "retriever=run (retriever 'run'): key 'top_k': -90 is out of range (must be >= 1)",
        ),
        (
            ["retriever=bm25", "retriever.top_k=-5"],
            "retriever=bm25 (retriever 'bm25'): key 'top_k': -5 is out of range (must be >= 1)",
        ),
    ],
)
def test_out_of_range_values_stop_harness_run_with_exit_2(overrides, message, tiny_root, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", *overrides, "tracking=none", f"results_dir={tmp_path / 'results'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr[-2000:]
    assert f"harness: error: {message}" in out.stderr.splitlines()
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "results" / "default").exists()  # refused before anything ran
