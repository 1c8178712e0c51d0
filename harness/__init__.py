"""A plugin-based benchmark harness for neural IR and retrieval-augmented generation.

The public API for plugin authors and scripts is re-exported here (``__all__``):
``hookimpl``, the component base classes and ``option``, the errors, and
``run_experiment``. They are loaded on first access, and heavy libraries (torch,
ranx, mlflow, ir_datasets) only inside the functions that need them, so that
``harness --help`` stays fast.
"""

from importlib import import_module, metadata
from typing import Any

try:  # one source of truth: the version pyproject.toml gives the installed distribution
    __version__ = metadata.version("ir-rag-harness")
except metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"

_EXPORTS = {
    "hookimpl": "harness.hookspecs",
    **{
        name: "harness.components"
        for name in (
            "Component",
            "Context",
            "Retriever",
            "Reranker",
            "PeftMethod",
            "Generator",
            "NoiseInjector",
            "Metric",
            "Tracker",
            "TrackedRun",
            "option",
        )
    },
    **{name: "harness.errors" for name in ("HarnessError", "ConfigError", "DataError", "PluginError")},
    "run_experiment": "harness.pipeline",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
