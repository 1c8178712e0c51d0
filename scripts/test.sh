#!/usr/bin/env bash
# The test suite: unit tests on tiny data, plus integration tests on the real
# data in ../shared/data where it is present (they skip where it is not).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
python -m pytest -q "$@"
