"""Every config option composes and instantiates; wrong keys and types are clear errors."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from harness.cache import StageCache
from harness.components import Context
from harness.config import conf_dir, register_schema
from harness.errors import ConfigError
from harness.plugin_manager import get_plugin_manager
from harness.registry import ComponentRegistry

GROUP_KINDS = {
    "retriever": "retriever",
    "reranker": "reranker",
    "peft": "peft",
    "generator": "generator",
    "noise": "noise",
    "tracking": "tracking",
}


def options(group: str) -> list[str]:
    folder = conf_dir() / group
    return sorted(str(p.relative_to(folder).with_suffix("")) for p in folder.rglob("*.yaml")) if folder.is_dir() else []


def compose_with(*overrides: str):
    register_schema()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


ALL = [(group, option) for group in ["dataset", "experiment", *GROUP_KINDS] for option in options(group)]


def test_required_groups_have_options():
    for group in ["dataset", "retriever", "peft", "tracking", "experiment"]:
        assert options(group), f"conf/{group} has no options"


@pytest.mark.parametrize("group,option", ALL, ids=[f"{g}={o}" for g, o in ALL])
def test_every_option_composes_and_instantiates(group, option, tmp_path):
    extra = ["dataset.id=msmarco-passage/trec-dl-2019"] if (group, option) == ("dataset", "ir_datasets") else []
    cfg = compose_with(f"{group}={option}", *extra)
    config = OmegaConf.to_container(cfg, resolve=True)
    assert config["dataset"]["id"]
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    ctx = Context(cache=StageCache(tmp_path))
    for grp, kind in GROUP_KINDS.items():
        if config.get(grp):
            component = registry.create(kind, config[grp], ctx, where=f"{grp}={option}")
            assert component.name == config[grp]["name"]


def test_default_config_is_bm25_on_dl19():
    cfg = compose_with()
    assert cfg.dataset.id == "msmarco-passage-mini/trec-dl-2019" and cfg.retriever.name == "bm25"
    assert cfg.reranker is None and cfg.generator is None and cfg.dataset.binary_relevance_level == 2


def test_unknown_top_level_key_fails_at_composition():
    with pytest.raises(ConfigCompositionException, match="experiment_nam"):
        compose_with("experiment_nam=x")


def test_wrong_top_level_type_names_the_key():
    with pytest.raises(ConfigCompositionException, match="seed"):
        compose_with("seed=abc")


def test_unknown_component_key_names_group_and_valid_keys(tmp_path):
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    with pytest.raises(ConfigError, match=r"retriever=bm25 \(retriever 'bm25'\): unknown key\(s\) 'k11'; valid keys: b, k1"):
        registry.create("retriever", {"name": "bm25", "k11": 1.0}, Context(cache=StageCache(tmp_path)), where="retriever=bm25")


def test_wrong_component_value_type_names_the_key(tmp_path):
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    with pytest.raises(ConfigError, match=r"retriever=bm25 \(retriever 'bm25'\): key 'k1': .*'fast'"):
        registry.create("retriever", {"name": "bm25", "k1": "fast"}, Context(cache=StageCache(tmp_path)), where="retriever=bm25")


def test_missing_component_name(tmp_path):
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    with pytest.raises(ConfigError, match="missing key 'name'"):
        registry.create("retriever", {"k1": 1.0}, Context(cache=StageCache(tmp_path)))


def test_conf_dir_is_the_repositorys():
    assert conf_dir() == Path(__file__).resolve().parents[1] / "conf"


@pytest.mark.parametrize("option", options("train"))
def test_every_train_option_composes_and_validates(option):
    from harness.training.generator import GeneratorTrainConfig
    from harness.registry import build_config
    from harness.training.loop import TrainConfig

    cfg = OmegaConf.to_container(compose_with(f"train={option}", "reranker=cross_encoder", "peft=lora"), resolve=True)
    if cfg["train"].get("part") == "generator":
        config = build_config(GeneratorTrainConfig, cfg["train"], f"train={option}")
        assert config.dataset.startswith("halueval-qa/") and config.ratios
        return
    if cfg["train"].get("source") == "msmarco_sample":
        from harness.training.msmarco_sample import SampleTrainConfig

        config = build_config(SampleTrainConfig, cfg["train"], f"train={option}")
        assert config.loss in ("listwise", "pairwise") and config.mine_lo < config.mine_hi
        return
    config = build_config(TrainConfig, cfg["train"], f"train={option}")
    assert config.dataset.startswith("msmarco-passage-mini/") and config.loss in ("listwise", "pointwise", "inbatch")
