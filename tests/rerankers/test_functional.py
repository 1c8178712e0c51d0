"""The scoring maths against values computed by hand."""

import math

import pytest
import torch

from harness.models import functional


def test_mean_pooling_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert functional.pool(hidden, mask, "mean").tolist() == [[2.0, 3.0]]
    assert functional.pool(hidden, mask, "max").tolist() == [[3.0, 4.0]]
    assert functional.pool(hidden, mask, "cls").tolist() == [[1.0, 2.0]]


def test_cosine_and_dot_by_hand():
    q = torch.tensor([[1.0, 0.0], [3.0, 4.0]])
    d = torch.tensor([[1.0, 1.0], [3.0, 4.0]])
    assert functional.similarity(q, d, "dot").tolist() == [1.0, 25.0]
    cos = functional.similarity(q, d, "cosine").tolist()
    assert cos == pytest.approx([1 / math.sqrt(2), 1.0])
    matrix = functional.similarity_matrix(q, d, "cosine")
    assert matrix[1, 0].item() == pytest.approx(7 / (5 * math.sqrt(2)))
    assert functional.similarity_matrix(q, d, "dot").tolist() == [[1.0, 3.0], [7.0, 25.0]]


def test_maxsim_by_hand():
    # Query tokens (1,0) and (0,1); document tokens (0.6,0.8), (1,0) and a padded (0,5).
    q = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]]])
    q_mask = torch.tensor([[1, 1, 0]])
    d = torch.tensor([[[0.6, 0.8], [1.0, 0.0], [0.0, 5.0]]])
    d_mask = torch.tensor([[1, 1, 0]])
    # best for (1,0): max(0.6, 1.0) = 1.0; for (0,1): max(0.8, 0.0) = 0.8; padded query token ignored.
    assert functional.maxsim(q, q_mask, d, d_mask).item() == pytest.approx(1.8)


def test_unknown_choices_are_named():
    with pytest.raises(ValueError, match="pooling 'sum'"):
        functional.pool(torch.zeros(1, 1, 2), torch.ones(1, 1), "sum")
    with pytest.raises(ValueError, match="similarity 'l2'"):
        functional.similarity(torch.zeros(1, 2), torch.zeros(1, 2), "l2")
