#!/usr/bin/env bash
# The test suite: unit tests on tiny data, plus integration tests on the real
# data in ../shared/data where it is present (they skip where it is not).
#   bash scripts/test.sh          everything (both tiers)
#   bash scripts/test.sh --fast   the fast tier only: every test not marked `slow`
#                                 (no real data, subprocesses, launchers, Chromium, Ray)
# Any other arguments go to pytest (bash scripts/test.sh --fast tests/cli -x).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
if [ "${1:-}" = "--fast" ]; then
    shift
    exec python -m pytest -q -m "not slow" "$@"
fi
exec python -m pytest -q "$@"
