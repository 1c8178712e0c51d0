"""Every RAG config option composes and builds its component (lightning-hydra-template style)."""

import pytest
from hydra import compose, initialize_config_dir

from harness.cache import StageCache
from harness.components import Context
from harness.config import conf_dir, register_schema
from harness.plugin_manager import get_plugin_manager
from harness.registry import ComponentRegistry


def composed(overrides):
    register_schema()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


@pytest.mark.parametrize("noise", ["random", "hard", "counterfactual", "retrieved"])
def test_noise_and_generator_configs_build(tmp_path, noise):
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(composed([f"noise={noise}", "generator=hf"]), resolve=True)
    registry = ComponentRegistry(get_plugin_manager())
    context = Context(cache=StageCache(tmp_path))
    assert registry.create("noise", cfg["noise"], context).name == noise
    assert registry.create("generator", cfg["generator"], context).model is None  # loaded lazily


def test_noise_curve_experiment(tmp_path):
    cfg = composed(["experiment=noise_curve"])
    assert cfg.dataset.id == "halueval-qa/test" and cfg.generator.name == "hf" and cfg.noise.name == "random"
    assert cfg.dataset.query_limit == 100 and cfg.retriever.name == "bm25"


def test_noise_trained_experiment_trains_the_generator_on_the_train_split():
    cfg = composed(["experiment=noise_curve_trained"])
    assert cfg.dataset.id == "halueval-qa/test" and cfg.train.dataset == "halueval-qa/train"
    assert cfg.train.part == "generator" and cfg.peft.name == "lora" and cfg.experiment_name == "noise_curve"
