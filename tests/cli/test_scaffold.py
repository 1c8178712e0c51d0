"""`harness plugins new`: every kind scaffolds a package whose own tests pass once installed."""

import importlib.util
import os
import subprocess
import sys

import pytest

from harness.errors import ConfigError
from harness.cli.scaffold import new_plugin
from harness.cli.scaffold_templates import KINDS

# Build the plugin with the venv's own setuptools where it has one (offline, fast),
# else in pip's isolated build environment.
NO_ISOLATION = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []


OTHER_KINDS = [kind for kind in KINDS if kind != "reranker"]  # the reranker is run end to end elsewhere


def test_bad_name_is_refused(tmp_path):
    with pytest.raises(ConfigError) as err:
        new_plugin("My-Reranker", "reranker", tmp_path)
    assert str(err.value) == "plugin name 'My-Reranker' must be a lowercase Python identifier, e.g. my_reranker"


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ConfigError) as err:
        new_plugin("mine", "ranker", tmp_path)
    assert str(err.value) == ("unknown plugin kind 'ranker'; kinds: retriever, reranker, peft, generator, noise, metric, dataset")


def test_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / "mine").mkdir()
    with pytest.raises(ConfigError) as err:
        new_plugin("mine", "retriever", tmp_path)
    assert str(err.value) == f"{tmp_path / 'mine'} already exists; choose another name or remove it"


def test_package_layout(tmp_path):
    root = new_plugin("my_noise", "noise", tmp_path)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "my_noise/__init__.py",
        "my_noise/component.py",
        "my_noise/conf/__init__.py",
        "my_noise/conf/noise/my_noise.yaml",
        "my_noise/plugin.py",
        "pyproject.toml",
        "tests/test_my_noise.py",
    ]
    assert '[project.entry-points."harness.plugins"]\nmy_noise = "my_noise.plugin"' in (root / "pyproject.toml").read_text()


@pytest.mark.slow
def test_every_kind_passes_its_own_tests_once_installed(tmp_path):
    site = tmp_path / "site"
    roots = [new_plugin(f"my_{kind}", kind, tmp_path) for kind in OTHER_KINDS]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", *NO_ISOLATION, "--target", str(site), *map(str, roots)],
        check=True,
        capture_output=True,
    )
    env = {"PYTHONPATH": str(site), "IR_DATASETS_HOME": str(tmp_path / "irds")}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            *[str(r / "tests") for r in roots],
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert out.returncode == 0, out.stdout[-4000:]
    # 5 contract checks per component, a Hydra config test for all but the metric; 2 dataset tests.
    assert "31 passed" in out.stdout
