"""The example plugin examples/harness-rrf passes the contract kit, as installed by scripts/setup.sh."""

import pytest

from harness.testing import check_all

fusion = pytest.importorskip("harness_rrf.fusion", reason="pip install -e examples/harness-rrf (scripts/setup.sh does)")


def test_rrf_passes_the_contract_kit_and_is_registered_by_its_entry_point():
    check_all(fusion.RRFReranker, {"fuse": [{"name": "bm25", "stemmer": None, "stopwords": None}]}, registered_as="rrf")
