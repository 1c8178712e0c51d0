"""generator=hf on a tiny random Llama built in the test (no packaged weights)."""

import pytest

from harness.cache import StageCache
from harness.components import Context
from harness.errors import ConfigError
from harness_plugins.generator.hf import HFGenerator, HFGeneratorConfig

from ..rag_fixtures import tiny_causal_lm


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm"))


def make(model_dir, tmp_path, **kw):
    config = HFGeneratorConfig(model=str(model_dir), max_new_tokens=6, **kw)
    return HFGenerator(config, Context(cache=StageCache(tmp_path), show_progress=False))


QUESTIONS = ["who did it", "what is paris", "where is bob"]
CONTEXTS = [["ann did it"], ["paris is a city", "bob is ann"], []]


def test_prompt_uses_chat_template_and_lists_passages(model_dir, tmp_path):
    gen = make(model_dir, tmp_path)
    prompt = gen.prompts(["who did it"], [["ann did it", "bob did not"]])[0]
    assert prompt.startswith("<s> system ") and prompt.endswith("<s> assistant ")
    assert "[1] ann did it\n[2] bob did not" in prompt and "Question: who did it" in prompt
    assert "reply exactly: I cannot answer." in prompt
    assert gen.prompts(["q"], [[]])[0].count("(none)") == 1


def test_generate_is_batch_invariant_and_keeps_order(model_dir, tmp_path):
    one = make(model_dir, tmp_path, batch_size=1).generate(QUESTIONS, CONTEXTS)
    three = make(model_dir, tmp_path, batch_size=3).generate(QUESTIONS, CONTEXTS)
    assert len(one) == 3 and all(isinstance(a, str) for a in one)
    assert one == three  # left padding: a padded prompt answers as it does alone


def test_model_is_reachable_for_peft(model_dir, tmp_path):
    import torch

    gen = make(model_dir, tmp_path)
    gen.load()
    assert isinstance(gen.model, torch.nn.Module) and gen.model.dtype == torch.float32
    assert gen.tokenizer.padding_side == "left"


@pytest.mark.parametrize("key, value", [("instruction", "{passages} {questoin}"), ("passage_template", "{idx}")])
def test_unknown_prompt_field_is_named(model_dir, tmp_path, key, value):
    with pytest.raises(ConfigError, match=key):
        make(model_dir, tmp_path, **{key: value})


def test_missing_model_is_a_config_error(tmp_path):
    gen = make(tmp_path / "nowhere", tmp_path)
    with pytest.raises(ConfigError, match="cannot load model"):
        gen.generate(["q"], [["p"]])
