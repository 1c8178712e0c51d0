"""The fast tier's guard (tests/fast_tier.py) fires on a fast test that starts a process, and only there."""

from __future__ import annotations

import subprocess

INI = "[pytest]\nmarkers =\n    slow: the slow tier\n"
CONFTEST = """
import subprocess

import pytest


@pytest.fixture(scope="module")
def started_once():
    subprocess.run(["true"], check=True)
"""
TESTS = """
import subprocess
import sys

import pytest

SEEN_AT_IMPORT = subprocess.Popen._execute_child


def test_unmarked_run():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_unmarked_check_output_swallowed():
    try:
        subprocess.check_output(["true"])
    except BaseException:
        pass


def test_unmarked_with_a_module_fixture_that_starts_one(started_once):
    pass


def test_unmarked_without_a_process():
    assert subprocess.Popen._execute_child is not SEEN_AT_IMPORT  # the guard is in place


@pytest.mark.slow
def test_marked_slow():
    assert subprocess.Popen._execute_child is SEEN_AT_IMPORT  # left alone
"""
SLOW_MODULE = """
import subprocess

import pytest

pytestmark = pytest.mark.slow
SEEN_AT_IMPORT = subprocess.Popen._execute_child


def test_in_a_slow_module():
    assert subprocess.Popen._execute_child is SEEN_AT_IMPORT
"""


def test_a_fast_test_that_starts_a_process_fails_and_says_to_mark_it_slow(pytester):
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_spawns=TESTS, test_slow_module=SLOW_MODULE)
    before = subprocess.Popen._execute_child
    result = pytester.runpytest_inprocess("-p", "fast_tier", "-p", "no:cacheprovider", "--import-mode=importlib", "-rA")
    assert subprocess.Popen._execute_child is before  # restored after each test
    # the swallowed one passes its call and errs in teardown; the module fixture errs in setup
    result.assert_outcomes(passed=4, failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "E*Failed: test_spawns.py::test_unmarked_check_output_swallowed tried to start a process (true) in the fast "
            "tier: mark it @pytest.mark.slow*",
            "E*Failed: test_spawns.py::test_unmarked_with_a_module_fixture_that_starts_one starts a process (true)*",
            "E*Failed: test_spawns.py::test_unmarked_run starts a process (* -c pass) in the fast tier: mark it "
            "@pytest.mark.slow (or the module's pytestmark = pytest.mark.slow)*",
        ]
    )
    assert "PASSED test_spawns.py::test_unmarked_without_a_process" in result.stdout.str()
    assert "PASSED test_spawns.py::test_marked_slow" in result.stdout.str()
    assert "PASSED test_slow_module.py::test_in_a_slow_module" in result.stdout.str()
