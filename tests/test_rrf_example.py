"""The example plugin examples/harness-rrf passes the contract kit, as installed by scripts/setup.sh."""

import pytest

from harness.testing import check_all

# Slow tier: every check fuses through ranx.fuse, whose numba-typed runs compile in each process
# (14 s alone on the 2-core machine, 40 s in the fast tier under load); the contract kit itself is
# checked in the fast tier (tests/plugins/test_contract_kit.py).
pytestmark = pytest.mark.slow

fusion = pytest.importorskip("harness_rrf.fusion", reason="pip install -e examples/harness-rrf (scripts/setup.sh does)")


def test_rrf_passes_the_contract_kit_and_is_registered_by_its_entry_point():
    check_all(fusion.RRFReranker, {"fuse": [{"name": "bm25", "stemmer": None, "stopwords": None}]}, registered_as="rrf")
