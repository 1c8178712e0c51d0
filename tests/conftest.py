"""Shared fixtures: a tiny msmarco-passage-mini written by the tests themselves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tiny_data import REAL_DATA, write_mini


@pytest.fixture()
def tiny_root(tmp_path, monkeypatch) -> Path:
    """A data root holding the tiny dataset, with IR_DATASETS_HOME and results in tmp."""
    root = write_mini(tmp_path / "data")
    monkeypatch.setenv("HARNESS_DATA_ROOT", str(root))
    monkeypatch.setenv("IR_DATASETS_HOME", str(tmp_path / "irds"))
    return root


@pytest.fixture()
def real_root() -> Path:
    if not (REAL_DATA / "msmarco-passage-mini" / "collection.tsv").exists():
        pytest.skip(f"real data not found at {REAL_DATA}")
    return REAL_DATA


def harness_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env.setdefault("HYDRA_FULL_ERROR", "0")
    return env
