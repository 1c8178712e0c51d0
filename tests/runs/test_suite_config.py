"""Suites as configs: parsed and checked, members composed as ordinary runs (harness/runs/suite.py)."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from harness.errors import ConfigError
from harness.pipeline import config_hash
from harness.runs import suite as suites
from harness.testing.hydra import compose_run_config


@pytest.mark.parametrize(
    "value, message",
    [
        ([1], "expected a mapping"),
        ({"name": "x", "members": {}}, "suite.members must map labels"),
        ({"name": "x", "members": {"a": 3}}, r"suite.members.a: expected an override"),
        ({"name": "x", "members": {"a": "dataset"}}, "is not an override KEY=VALUE"),
        ({"name": "x", "members": {"a": ["dataset=x", "suite=y"]}}, "a member cannot name a suite"),
        ({"name": "x", "members": {"a": "retriever=run"}}, "picks no dataset"),
        ({"name": "x", "members": {"a": "dataset=x"}, "datasets": []}, "unknown key"),
    ],
)
def test_bad_suites_name_the_key(value, message):
    with pytest.raises(ConfigError, match=message):
        suites.parse(value)


def test_a_member_is_one_override_or_a_list():
    suite = suites.parse({"members": {"a": "dataset=x", "b": ["dataset=files", "dataset.docs=d"]}}, "mine")
    assert suite.name == "mine" and suite.members == {"a": ["dataset=x"], "b": ["dataset=files", "dataset.docs=d"]}


def test_system_overrides_drop_the_suite_and_refuse_a_dataset_choice():
    assert suites.system_overrides(["suite=dl", "retriever=run", "dataset.query_limit=5", "+suite.members.x=y"]) == [
        "retriever=run",
        "dataset.query_limit=5",
    ]
    with pytest.raises(ConfigError, match="picks a dataset, but the suite's members pick theirs"):
        suites.system_overrides(["suite=dl", "dataset=files"])


def test_members_are_the_configs_of_ordinary_runs():
    suite = suites.load("dl")
    assert suite.members == {
        "dl19": ["dataset=msmarco-passage-mini/trec-dl-2019"],
        "dl20": ["dataset=msmarco-passage-mini/trec-dl-2020"],
    }
    found = suites.members(suite, ["retriever=run", "dataset.query_limit=5"])
    assert [m.label for m in found] == ["dl19", "dl20"]
    for member, dataset in zip(found, ("msmarco-passage-mini/trec-dl-2019", "msmarco-passage-mini/trec-dl-2020")):
        plain = OmegaConf.to_container(
            compose_run_config(["retriever=run", f"dataset={dataset}", "dataset.query_limit=5"]), resolve=True
        )
        assert member.config == plain and member.config["suite"] is None
        assert config_hash(member.config) == config_hash(plain)
        assert member.choices["dataset"] == dataset and member.choices["retriever"] == "run"
    assert suites.dataset_ids(suite) == {"dl19": "msmarco-passage-mini/trec-dl-2019", "dl20": "msmarco-passage-mini/trec-dl-2020"}


def test_the_suite_key_leaves_the_config_hash_alone():
    plain = OmegaConf.to_container(compose_run_config([]), resolve=True)
    with_suite = OmegaConf.to_container(compose_run_config(["suite=dl"]), resolve=True)
    assert with_suite["suite"]["name"] == "dl" and config_hash(with_suite) == config_hash(plain)


def test_a_fixed_run_name_is_refused():
    with pytest.raises(ConfigError, match="would give every member one run folder"):
        suites.members(suites.load("dl"), ["run_name=mine"])


def test_an_unknown_suite_or_a_bad_member_is_a_config_error():
    with pytest.raises(ConfigError, match="suite=nope"):
        suites.load("nope")
    bad = suites.parse({"members": {"a": "dataset=no-such-option"}}, "x")
    with pytest.raises(ConfigError, match="member 'a'"):
        suites.members(bad, [])
