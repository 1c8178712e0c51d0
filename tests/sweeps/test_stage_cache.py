"""Three rerankers over one first stage: the first stage is computed once (cache statistics)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

pytestmark = pytest.mark.slow  # sweeps through the harness command in subprocesses


def test_three_rerankers_share_the_first_stage(cli, tmp_path):
    done = cli.run(
        tmp_path / "r",
        "-m",
        "retriever=bm25",
        "reranker=overlap",
        "reranker.weight=0,0.5,1",
        "tracking=none",
        "experiment_name=share",
    )
    logged = re.findall(r"stage cache: (.*)", done.stderr)
    assert len(logged) == 3
    totals = Counter()
    for info in (tmp_path / "r" / "share").glob("*/run_info.json"):
        totals.update(json.loads(info.read_text())["cache"])
    assert totals["retrieve.miss"] == 1 and totals["retrieve.hit"] == 2
    assert totals["bm25-index.miss"] == 1
    assert totals["rerank.miss"] == 3


def test_sweep_summary_totals_the_cache(cli, tmp_path):
    done = cli.run(
        tmp_path / "r",
        "-m",
        "retriever=run",
        "reranker=overlap",
        "reranker.weight=0,1",
        "tracking=none",
        "experiment_name=summary",
    )
    assert re.search(r"sweep: 2 jobs .*retrieve.hit=1.*retrieve.miss=1", done.stdout + done.stderr)
