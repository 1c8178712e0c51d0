"""Fixtures shared by the training tests."""

import pytest


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 2-layer BERT (hidden 32), random weights (seed 0), with the packaged MiniLM tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from harness.models.loading import packaged_minilm

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(packaged_minilm())
    torch.manual_seed(0)
    BertModel(
        BertConfig(
            vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
        )
    ).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)
