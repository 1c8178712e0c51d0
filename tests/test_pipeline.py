"""run_experiment's own rules: the saved-adapter option and its deprecated alias, the config digest."""

import logging
from dataclasses import FrozenInstanceError, replace

import pytest
from omegaconf import OmegaConf

from harness import hookimpl
from harness.cache import StageCache
from harness.components import Context, Generator, NoiseInjector, Reranker, TrainableReranker, missing_members
from harness.config import implied
from harness.errors import ConfigError
from harness.pipeline import config_hash, make_plan, run_experiment, saved_adapter
from harness.plugin_manager import get_plugin_manager
from harness.registry import ComponentRegistry
from harness.testing.hydra import compose_run_config


def test_load_adapter_and_its_deprecated_alias_name_the_same_adapter(caplog):
    with caplog.at_level(logging.WARNING, logger="harness.pipeline"):
        assert saved_adapter({"load_adapter": "/a", "adapter": None}) == "/a"
        assert not caplog.records
        assert saved_adapter({"load_adapter": None, "adapter": "/a"}) == "/a"
    [warning] = caplog.records
    assert "adapter= is deprecated" in warning.getMessage() and "load_adapter=/a" in warning.getMessage()
    assert saved_adapter({"load_adapter": None, "adapter": None}) is None
    assert saved_adapter({}) is None
    assert saved_adapter({"load_adapter": "/a", "adapter": "/a"}) == "/a"
    with pytest.raises(ConfigError, match="load_adapter=/a and its deprecated alias adapter=/b disagree"):
        saved_adapter({"load_adapter": "/a", "adapter": "/b"})


def test_the_digest_of_a_saved_adapter_is_that_of_its_earlier_option():
    # Run names and resume go by this digest: a run of adapter=X before the rename keeps its digest.
    earlier = {"seed": 0, "adapter": "/a", "retriever": {"name": "bm25"}}
    assert config_hash({**earlier, "adapter": None, "load_adapter": "/a"}) == config_hash(earlier)
    assert config_hash({**earlier, "load_adapter": None}) == config_hash(earlier)
    assert config_hash({**earlier, "adapter": None, "load_adapter": None}) == config_hash({**earlier, "adapter": None})
    assert config_hash({**earlier, "adapter": None, "load_adapter": "/b"}) != config_hash(earlier)
    # Where and how a run is recorded is no part of it.
    assert config_hash({**earlier, "results_dir": "x", "tracking": {"name": "none"}}) == config_hash(earlier)


# --- Declared contracts: checked when the run is planned, before anything is trained or written.


class PlainReranker(Reranker):
    def rerank(self, dataset, queries, run):
        return run


class PlainGenerator(Generator):
    def generate(self, questions, contexts):
        return ["" for _ in questions]


class PlainNoise(NoiseInjector):  # draws from the candidates but has no noise ratio
    def inject(self, query, passages, candidates):
        return list(passages)


class Plain:
    @hookimpl
    def harness_add_rerankers(self):
        return {"plain": PlainReranker}

    @hookimpl
    def harness_add_generators(self):
        return {"plain": PlainGenerator}

    @hookimpl
    def harness_add_noise_injectors(self):
        return {"plain": PlainNoise}


def composed(*overrides):
    return OmegaConf.to_container(compose_run_config(overrides), resolve=True)


def plain_pm():
    return get_plugin_manager(extra_plugins=[Plain()])


def test_training_a_reranker_without_a_scorer_names_it_and_what_it_lacks(tiny_root, tmp_path):
    config = composed(
        "retriever=run",
        "reranker=cross_encoder",
        "reranker.name=plain",
        "peft=lora",
        "train=dl19",
        "tracking=none",
        f"results_dir={tmp_path}",
    )
    config["reranker"] = {"name": "plain"}
    with pytest.raises(
        ConfigError,
        match=r"reranker 'plain' \(tests.test_pipeline.PlainReranker\) cannot be trained "
        r"or given an adapter \(train / load_adapter\): it lacks scorer",
    ):
        run_experiment(config, pm=plain_pm())
    assert not (tmp_path / "default").exists()  # refused before any run folder


def test_a_generator_adapter_needs_a_trainable_generator(tiny_root, tmp_path):
    config = composed(
        "retriever=run", "generator=hf", "peft=lora", "tracking=none", f"results_dir={tmp_path}", "train=halueval_noise"
    )
    config["generator"] = {"name": "plain"}
    with pytest.raises(
        ConfigError,
        match=r"generator 'plain' .* it lacks config.abstain_answer, model, tokenizer, "
        r"load, prompts \(harness.components.TrainableGenerator\)",
    ):
        run_experiment(config, pm=plain_pm())


def test_noise_drawn_from_the_candidates_needs_a_ratio(tiny_root, tmp_path):
    config = composed("retriever=run", "generator=hf", "tracking=none", f"results_dir={tmp_path}")
    config["noise"] = {"name": "plain"}
    with pytest.raises(ConfigError, match=r"noise 'plain' .* it lacks config.ratio"):
        run_experiment(config, pm=plain_pm())


def test_contract_checks_never_load_a_model(tmp_path):
    from harness_plugins.reranker.cross_encoder import CrossEncoderReranker

    reranker = CrossEncoderReranker.__new__(CrossEncoderReranker)  # no config: building its scorer would fail
    assert missing_members(reranker, TrainableReranker) == [] and reranker._scorer is None


def test_trackers_declare_their_optional_capabilities(tmp_path):
    context = Context(cache=StageCache(tmp_path))
    registry = ComponentRegistry(get_plugin_manager())
    untracked = registry.create("tracking", {"name": "none"}, context)
    assert untracked.tracking_uri() is None and untracked.find_runs("e", "h") is None
    mlflow = registry.create("tracking", {"name": "mlflow"}, replace(context, results_dir=tmp_path))
    assert mlflow.tracking_uri().startswith("sqlite:///") and mlflow.find_runs("e", "h") == []


# --- Plan, then execute.


class AfterRun:
    def __init__(self):
        self.calls = []

    @hookimpl
    def harness_after_run(self, config, metrics, run_dir):
        self.calls.append((metrics["ndcg@10"], run_dir))


def test_after_run_fires_for_a_resumed_run_too(tiny_root, tmp_path):
    config = composed("retriever=run", "tracking=none", f"results_dir={tmp_path}", "resume=true")
    seen = AfterRun()
    first = run_experiment(config, pm=get_plugin_manager(extra_plugins=[seen]))
    again = run_experiment(config, pm=get_plugin_manager(extra_plugins=[seen]))
    assert again.info.get("resumed") and not first.info.get("resumed")
    assert seen.calls == [(first.metrics["ndcg@10"], first.run_dir)] * 2


def test_the_plan_holds_every_component_and_what_is_adapted(tiny_root, tmp_path):
    config = composed(
        "retriever=run", "reranker=cross_encoder", "peft=lora", "train=dl19", "tracking=none", f"results_dir={tmp_path}"
    )
    plan = make_plan(config, ComponentRegistry(get_plugin_manager()), {})
    assert plan.adaptation.part == "reranker" and plan.adaptation.train["dataset"].endswith("trec-dl-2019")
    assert plan.adaptation.load_adapter is None and plan.adaptation.peft.name == "lora"
    assert plan.adapted is plan.reranker and plan.rag is None
    assert plan.run_dir == tmp_path.resolve() / "default" / plan.run_name
    assert plan.run_name == f"run+cross_encoder-{plan.digest[:8]}" and plan.tags["harness.config_hash"] == plan.digest
    assert not plan.run_dir.exists() and plan.reranker._scorer is None  # planning writes nothing, loads no model
    with pytest.raises(FrozenInstanceError):
        plan.run_name = "other"


def test_a_saved_adapter_is_planned_as_loaded_not_trained(tiny_root, tmp_path):
    config = composed(
        "retriever=run",
        "reranker=cross_encoder",
        "peft=lora",
        "tracking=none",
        f"results_dir={tmp_path}",
        "load_adapter=/nowhere",
    )
    with pytest.raises(ConfigError, match="load_adapter=/nowhere: neither an adapter folder nor an MLflow run id"):
        make_plan(config, ComponentRegistry(get_plugin_manager()), {})


def test_the_core_names_no_builtin_component():
    # What a run implies without configuring it comes from conf/implied.yaml, not from the code.
    import ast
    from pathlib import Path

    import harness
    from harness.config import conf_dir

    builtins = {
        p.stem
        for group in ("retriever", "reranker", "peft", "generator", "noise", "tracking")
        for p in (conf_dir() / group).glob("*.yaml")
    } - {"adapter"}  # also a folder and a key's old name
    root = Path(harness.__file__).parent
    for module in ("pipeline.py", "stages.py", "registry.py", "components.py", "rag/stage.py", "training/stage.py"):
        named = {
            node.value
            for node in ast.walk(ast.parse((root / module).read_text()))
            if isinstance(node, ast.Constant) and node.value in builtins
        }
        assert not named, f"harness/{module} names built-in option(s) {sorted(named)}"
    assert {implied(role)["name"] for role in ("tracking", "noise", "mining")} <= builtins
