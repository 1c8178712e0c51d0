"""``harness plugins new NAME --kind KIND``: an installable plugin package that passes its own tests.

The package: a pyproject with the ``harness.plugins`` entry point, the component
module, the plugin module (its hooks), a Hydra config shipped inside the
package and found through ``harness_config_dirs``, and a test that points the
contract kit at the component.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from harness.errors import ConfigError
from harness.cli.scaffold_components import COMPONENTS
from harness.cli.scaffold_templates import (
    DATASET_FILES,
    KINDS,
    PLUGIN,
    PYPROJECT,
    README,
    REGISTER_COMPONENT,
    REGISTER_DATASET,
    TEST,
    TEST_CONFIG,
)

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def new_plugin(name: str, kind: str, parent: Path) -> Path:
    """Write the package ``parent/NAME`` and return its folder."""
    if not NAME_PATTERN.match(name) or keyword.iskeyword(name):
        raise ConfigError(f"plugin name '{name}' must be a lowercase Python identifier, e.g. my_reranker")
    if kind not in KINDS:
        raise ConfigError(f"unknown plugin kind '{kind}'; kinds: {', '.join(KINDS)}")
    root = Path(parent) / name
    if root.exists():
        raise ConfigError(f"{root} already exists; choose another name or remove it")
    for path, text in _files(name, kind).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def _files(name: str, kind: str) -> dict[str, str]:
    hook, group = KINDS[kind]
    values = {"name": name, "dist": name.replace("_", "-"), "cls": class_name(name), "kind": kind, "hook": hook, "group": group}
    values["register"] = (REGISTER_DATASET if kind == "dataset" else REGISTER_COMPONENT).format(**values)
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"{name}/__init__.py": '"""{kind} plugin {name} for the harness."""\n',
        f"{name}/plugin.py": PLUGIN,
        f"{name}/conf/__init__.py": "",
    }
    if group:
        files[f"{name}/conf/{group}/{name}.yaml"] = COMPONENTS[kind]["yaml"]
    if kind == "dataset":
        files[f"{name}/datasets.py"] = COMPONENTS[kind]["module"]
        files[f"tests/test_{name}.py"] = DATASET_FILES
    else:
        files[f"{name}/component.py"] = COMPONENTS[kind]["module"]
        files[f"tests/test_{name}.py"] = TEST + (TEST_CONFIG if group else "")
    return {path: text.format(**values) for path, text in files.items()}
