"""run_experiment's own rules: the saved-adapter option and its deprecated alias, the config digest."""

import logging

import pytest

from harness.errors import ConfigError
from harness.pipeline import config_hash, saved_adapter


def test_load_adapter_and_its_deprecated_alias_name_the_same_adapter(caplog):
    with caplog.at_level(logging.WARNING, logger="harness.pipeline"):
        assert saved_adapter({"load_adapter": "/a", "adapter": None}) == "/a"
        assert not caplog.records
        assert saved_adapter({"load_adapter": None, "adapter": "/a"}) == "/a"
    [warning] = caplog.records
    assert "adapter= is deprecated" in warning.getMessage() and "load_adapter=/a" in warning.getMessage()
    assert saved_adapter({"load_adapter": None, "adapter": None}) is None
    assert saved_adapter({}) is None
    assert saved_adapter({"load_adapter": "/a", "adapter": "/a"}) == "/a"
    with pytest.raises(ConfigError, match="load_adapter=/a and its deprecated alias adapter=/b disagree"):
        saved_adapter({"load_adapter": "/a", "adapter": "/b"})


def test_the_digest_of_a_saved_adapter_is_that_of_its_earlier_option():
    # Run names and resume go by this digest: a run of adapter=X before the rename keeps its digest.
    earlier = {"seed": 0, "adapter": "/a", "retriever": {"name": "bm25"}}
    assert config_hash({**earlier, "adapter": None, "load_adapter": "/a"}) == config_hash(earlier)
    assert config_hash({**earlier, "load_adapter": None}) == config_hash(earlier)
    assert config_hash({**earlier, "adapter": None, "load_adapter": None}) == config_hash({**earlier, "adapter": None})
    assert config_hash({**earlier, "adapter": None, "load_adapter": "/b"}) != config_hash(earlier)
    # Where and how a run is recorded is no part of it.
    assert config_hash({**earlier, "results_dir": "x", "tracking": {"name": "none"}}) == config_hash(earlier)
