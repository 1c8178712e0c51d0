"""The package's public API: what plugin authors import from ``harness`` itself."""

import subprocess
import sys
from importlib import metadata

import pytest

import harness


def test_every_exported_name_resolves_to_the_object_of_its_module():
    from harness import components, hookspecs, pipeline

    for name in harness.__all__:
        assert getattr(harness, name) is not None, name
    assert harness.hookimpl is hookspecs.hookimpl and harness.Reranker is components.Reranker
    assert harness.run_experiment is pipeline.run_experiment
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        harness.nope


def test_the_version_is_the_installed_distributions():
    assert harness.__version__ == metadata.version("ir-rag-harness")


@pytest.mark.slow
def test_importing_the_package_loads_no_heavy_library():
    code = (
        "import sys, harness; harness.hookimpl; "
        "print(sorted(m for m in ('torch', 'ranx', 'mlflow', 'ir_datasets') if m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
