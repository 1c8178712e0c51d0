"""The layout rules of issue 12: a small core, plugins named after their config options, one to one.

- harness/ holds at most 15 top-level modules; the rest lives in concept packages;
- each ``conf/<group>/<option>.yaml`` is provided by ``plugins/<group>/<option>.py``
  (hyphens become underscores; nested dataset options ``family/x`` by ``plugins/dataset/family.py``),
  which registers it under the option's name, and each built-in plugin module is such an option's;
- no module of harness/ imports harness_plugins (the core reaches plugins through the registry);
- pyproject.toml lists every package folder, so that a wheel misses none.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
from pathlib import Path

import pytest
import yaml

from harness.builtins import BUILTIN_PLUGINS, LEGACY_NAMES
from harness.components import KINDS

ROOT = Path(__file__).resolve().parents[1]
# Config group -> component kind (the kind is named after its group); dataset is not a component kind.
COMPONENT_GROUPS = ("retriever", "reranker", "peft", "generator", "noise", "tracking")
# dataset=ir_datasets loads any id ir_datasets itself registers: no harness plugin provides it.
PROVIDED_BY_LIBRARY = {("dataset", "ir_datasets")}
MAX_TOP_LEVEL = 15


def conf_options(group: str) -> list[str]:
    folder = ROOT / "conf" / group
    return sorted(str(p.relative_to(folder).with_suffix("")) for p in folder.rglob("*.yaml"))


def module_of(group: str, option: str) -> str:
    """``harness_plugins.<group>.<module>`` for an option (the family's module for a nested one)."""
    return f"harness_plugins.{group}.{option.split('/')[0].replace('-', '_')}"


def expected_modules() -> dict[str, list[str]]:
    """Built-in module -> the conf options it provides."""
    found: dict[str, list[str]] = {}
    for group in (*COMPONENT_GROUPS, "dataset"):
        for option in conf_options(group):
            if (group, option) not in PROVIDED_BY_LIBRARY:
                found.setdefault(module_of(group, option), []).append(option)
    return found


def test_harness_has_a_small_core():
    top = sorted(p.name for p in (ROOT / "harness").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, f"{len(top)} top-level modules in harness/ (at most {MAX_TOP_LEVEL}): {top}"


def test_every_conf_option_has_its_plugin_module_and_nothing_else_is_built_in():
    expected = expected_modules()
    missing = [
        f"{module} (for {', '.join(options)})"
        for module, options in expected.items()
        if not (ROOT / "plugins" / Path(*module.split(".")[1:])).with_suffix(".py").is_file()
    ]
    assert not missing, f"conf options without their plugin module: {missing}"
    assert sorted(BUILTIN_PLUGINS.values()) == sorted(expected), "harness/builtins.py lists other modules"
    on_disk = sorted(
        f"harness_plugins.{p.parent.name}.{p.stem}" for p in (ROOT / "plugins").glob("*/*.py") if not p.name.startswith("_")
    )
    assert on_disk == sorted(expected), "a module in plugins/ provides no conf option"
    assert not [p.name for p in (ROOT / "plugins").glob("*.py") if p.name != "__init__.py"]


def test_builtin_plugin_names_are_their_module_paths():
    assert all(module == f"harness_plugins.{name}" for name, module in BUILTIN_PLUGINS.items())
    assert all(set(new) <= set(BUILTIN_PLUGINS) for new in LEGACY_NAMES.values())


def test_config_groups_and_component_kinds_share_their_names():
    assert set(COMPONENT_GROUPS) <= set(KINDS)
    assert all((ROOT / "conf" / kind).is_dir() for kind in KINDS if kind != "metric")  # metrics: by name
    assert all(row.group in (kind, None) for kind, row in KINDS.items())


def test_the_kind_table_is_the_one_the_scaffold_and_the_contract_kit_follow():
    from harness.cli.scaffold_components import COMPONENTS
    from harness.cli.scaffold_templates import KINDS as SCAFFOLD_KINDS
    from harness.testing.kinds import ADAPTERS

    scaffolded = set(KINDS) - {"tracking"}  # a tracker has neither an example component nor toy inputs
    assert set(ADAPTERS) == scaffolded and set(COMPONENTS) == scaffolded | {"dataset"}
    assert {k: v for k, v in SCAFFOLD_KINDS.items() if k != "dataset"} == {k: (KINDS[k].hook, KINDS[k].group) for k in scaffolded}


@pytest.mark.parametrize("module", sorted(m for m in expected_modules() if m.split(".")[1] in COMPONENT_GROUPS))
def test_each_component_module_registers_its_option(module):
    group = module.split(".")[1]
    hook = KINDS[group].hook
    registered = getattr(importlib.import_module(module), hook)()
    assert sorted(registered) == sorted(o.replace("-", "_") for o in expected_modules()[module])
    for option in expected_modules()[module]:
        name = yaml.safe_load((ROOT / "conf" / group / f"{option}.yaml").read_text())["name"]
        assert name in registered, f"conf/{group}/{option}.yaml selects '{name}', which {module} does not register"


@pytest.mark.parametrize("module", sorted(m for m in expected_modules() if m.split(".")[1] == "dataset"))
def test_each_dataset_module_registers_its_options(module, tmp_path, monkeypatch):
    import ir_datasets

    monkeypatch.setenv("IR_DATASETS_HOME", str(tmp_path / "irds"))
    ids = importlib.import_module(module).harness_register_datasets(tmp_path)
    for option in expected_modules()[module]:
        declared = yaml.safe_load((ROOT / "conf" / "dataset" / f"{option}.yaml").read_text())["id"]
        if declared == "???" or "${" in declared:  # the id is given or built at composition: a pattern
            prefix = option + ":"
            assert any(pattern.match(f"{prefix}/any/file.jsonl") for pattern, _ in ir_datasets.registry._patterns)
        else:
            assert declared in ids, f"conf/dataset/{option}.yaml names '{declared}', which {module} does not register"


def test_no_module_of_the_core_imports_a_plugin():
    offenders = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno}" for name in names if name.split(".")[0] == "harness_plugins"]
    assert not offenders, f"the core imports harness_plugins: {offenders}"


def test_pyproject_lists_every_package_and_its_configs():
    tomllib = pytest.importorskip("tomllib")
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    where = {name: ROOT / folder for name, folder in setuptools["package-dir"].items()}
    found = set()
    for name, top in where.items():
        for folder in [top, *sorted(p for p in top.rglob("*") if p.is_dir())]:
            parts = folder.relative_to(top).parts
            if "__pycache__" in parts or not all(part.isidentifier() for part in parts):
                continue  # conf/dataset/halueval-qa: data of harness_conf.dataset
            if any(folder.rglob("*.py")) or any(folder.rglob("*.yaml")):
                found.add(".".join((name, *parts)))
    assert sorted(setuptools["packages"]) == sorted(found)
    data = setuptools["package-data"]
    for path in sorted((ROOT / "conf").rglob("*.yaml")):
        parts = path.relative_to(ROOT / "conf").parts
        covered = any(
            _glob_match(parts[depth:], pattern)
            for depth in range(len(parts))
            if all(part.isidentifier() for part in parts[:depth])
            for pattern in data.get(".".join(("harness_conf", *parts[:depth])), [])
        )
        assert covered, f"conf/{'/'.join(parts)} is in no package-data pattern of pyproject.toml"


def _glob_match(parts: tuple[str, ...], pattern: str) -> bool:
    """setuptools' package-data glob: ``*`` stays within one folder."""
    segments = pattern.split("/")
    return len(segments) == len(parts) and all(fnmatch.fnmatch(p, s) for p, s in zip(parts, segments))
