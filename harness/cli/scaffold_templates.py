"""Package templates of ``harness plugins new``: pyproject, plugin module, tests.

str.format fields: name, dist, cls, kind, hook, group, register. The component
code itself is in ``harness.cli.scaffold_components``.
"""

from harness.components import KINDS as COMPONENT_KINDS

# What ``harness plugins new --kind`` makes -> (hook that registers it, Hydra config group): the
# component kinds of harness.components.KINDS that have an example component, and datasets.
KINDS: dict[str, tuple[str, str | None]] = {
    **{kind: (row.hook, row.group) for kind, row in COMPONENT_KINDS.items() if kind != "tracking"},
    "dataset": ("harness_register_datasets", "dataset"),
}

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "A {kind} plugin for the IR/RAG benchmark harness"
requires-python = ">=3.10"
dependencies = ["ir-rag-harness"]

[project.optional-dependencies]
test = ["pytest>=8"]

# The harness finds the plugin through this entry point.
[project.entry-points."harness.plugins"]
{name} = "{name}.plugin"

[tool.setuptools.packages.find]
include = ["{name}*"]

[tool.setuptools.package-data]
"{name}.conf" = ["*/*.yaml"]

[tool.pytest.ini_options]
addopts = "--import-mode=importlib"
"""

README = """# {dist}

A {kind} plugin for the IR/RAG benchmark harness, made by `harness plugins new {name} --kind {kind}`.

    pip install -e .          # registers the entry point `{name}`
    python -m pytest -q       # the harness's contract kit checks the component
    harness plugins list      # shows {name} with its distribution and version
"""

REGISTER_COMPONENT = """@hookimpl
def {hook}():
    from {name}.component import {cls}

    return {{"{name}": {cls}}}
"""

REGISTER_DATASET = """@hookimpl
def harness_register_datasets(data_root):
    from {name}.datasets import register

    return register(data_root)
"""

PLUGIN = '''"""Hooks of the {name} plugin: what it registers, and where its Hydra configs live."""

from harness.hookspecs import hookimpl


{register}

@hookimpl
def harness_config_dirs():
    # Makes conf/<group>/{name}.yaml of this package selectable on the command line.
    return ["pkg://{name}.conf"]
'''

TEST = '''"""{cls} against the harness's contract kit: interface, determinism, batching, cache key, errors."""

from harness.testing import ComponentContract, compose_run_config  # noqa: F401

from {name}.component import {cls}


class Test{cls}Contract(ComponentContract):
    component = {cls}
    registered_as = "{name}"  # the installed entry point registers it under this name
'''

TEST_CONFIG = """

def test_shipped_config_is_found_by_hydra():
    config = compose_run_config(["{group}={name}"])
    assert config["{group}"]["name"] == "{name}"
"""

DATASET_FILES = '''"""The dataset {name} registers, loads and reads from a tiny copy written here."""

from harness.data import datasets
from harness.plugin_manager import get_plugin_manager
from harness.testing import compose_run_config


def test_registered_dataset_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("IR_DATASETS_HOME", str(tmp_path / "irds"))
    folder = tmp_path / "{name}"
    folder.mkdir()
    (folder / "docs.tsv").write_text("d1\\tcats sit on mats\\nd2\\tparis is in france\\n")
    (folder / "queries.tsv").write_text("q1\\twhere do cats sit\\n")
    (folder / "qrels.txt").write_text("q1 0 d1 2\\nq1 0 d2 0\\n")
    dataset = datasets.load("{name}", get_plugin_manager(), tmp_path)
    assert [q.text for q in datasets.queries(dataset, "{name}")] == ["where do cats sit"]
    assert datasets.qrels(dataset, "{name}") == {{"q1": {{"d1": 2, "d2": 0}}}}
    assert dataset.docs_store().get("d2").text == "paris is in france"


def test_shipped_config_is_found_by_hydra():
    assert compose_run_config(["dataset={name}"])["dataset"]["id"] == "{name}"
'''
