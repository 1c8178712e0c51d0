"""Shared fixtures: a tiny msmarco-passage-mini written by the tests themselves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tiny_data import REAL_DATA, write_mini

# fast_tier: a test not marked slow that starts a process fails (tests/fast_tier.py); pytester: for
# tests/test_fast_tier_guard.py, which runs that guard on tests of its own.
pytest_plugins = ["fast_tier", "pytester"]


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


# The session's check that every run folder the tests wrote reproduces its metrics.json from its
# run.trec (tests/run_folder_check.py): a difference fails the session.
BASETEMP = pytest.StashKey[Path]()
REPORT = pytest.StashKey[list]()


@pytest.fixture(scope="session", autouse=True)
def _remember_basetemp(tmp_path_factory, pytestconfig):
    pytestconfig.stash[BASETEMP] = tmp_path_factory.getbasetemp()


def pytest_sessionfinish(session, exitstatus):
    base = session.config.stash.get(BASETEMP, None)
    if base is None or exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return
    from run_folder_check import check_all

    report = check_all(base)
    session.config.stash[REPORT] = report.lines()
    if report.failures:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config):
    lines = config.stash.get(REPORT, None)
    if lines:
        terminalreporter.section("run folders: run.trec vs metrics.json")
        for line in lines:
            terminalreporter.write_line(line)
