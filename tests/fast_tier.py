"""The fast tier's guard, a pytest plugin: a test not marked ``slow`` may not start a process.

``bash scripts/test.sh --fast`` runs the tests not marked ``slow`` and must stay fast on 2 cores, so
the harness command, pip, launchers, Chromium and Ray (all started as processes) belong to the
slow tier. tests/conftest.py loads this plugin, which makes that a rule rather than a habit: while
a fast test is set up (its fixtures of any scope included), runs and is torn down,
``subprocess.Popen`` (which ``run``, ``check_output`` and ``call`` use) fails the test with what to
do instead.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

HINT = (
    "mark it @pytest.mark.slow (or the module's pytestmark = pytest.mark.slow), "
    "or test the code in-process: the fast tier (bash scripts/test.sh --fast) starts no process"
)
STARTED = pytest.StashKey[list]()  # the commands a fast test tried to start
FAILED = pytest.StashKey[bool]()  # its setup or call has failed already


def _command(args) -> str:
    text = args if isinstance(args, (str, bytes)) else " ".join(map(str, args))
    text = text.decode(errors="replace") if isinstance(text, bytes) else text
    return text if len(text) <= 120 else text[:117] + "..."


def pytest_configure(config) -> None:
    # The standard library probes the machine once per process with `uname -p` (platform.processor,
    # which importing mlflow calls): a library's one-time probe, not the test starting a process.
    # Probed here, before any test, so that the guard does not depend on which test runs first.
    import platform

    platform.platform()
    platform.processor()


def _fast(item: pytest.Item) -> bool:
    return item.get_closest_marker("slow") is None


@contextmanager
def _refusing(item: pytest.Item) -> Iterator[None]:
    allowed = subprocess.Popen._execute_child  # type: ignore[attr-defined]

    def refuse(self, args, *rest, **kwargs):  # Popen.__init__ closes its pipes and re-raises
        command = _command(args)
        item.stash.setdefault(STARTED, []).append(command)
        pytest.fail(f"{item.nodeid} starts a process ({command}) in the fast tier: {HINT}")

    subprocess.Popen._execute_child = refuse  # type: ignore[attr-defined]
    try:
        yield
    finally:
        subprocess.Popen._execute_child = allowed  # type: ignore[attr-defined]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    if not _fast(item):
        return (yield)
    with _refusing(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if not _fast(item):
        return (yield)
    with _refusing(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    if not _fast(item):
        return (yield)
    with _refusing(item):
        result = yield
    started = item.stash.get(STARTED, [])
    if started and not item.stash.get(FAILED, False):  # pytest.fail is a BaseException; a bare except swallowed it
        pytest.fail(f"{item.nodeid} tried to start a process ({started[0]}) in the fast tier: {HINT}")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when in ("setup", "call") and report.failed:
        item.stash[FAILED] = True
    return report
