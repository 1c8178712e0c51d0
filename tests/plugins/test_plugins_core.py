"""Hook registration, the plugin-manager factory and unknown-name errors."""

import inspect
from dataclasses import dataclass

import pytest

from harness import hookspecs
from harness.builtins import BUILTIN_PLUGINS
from harness.components import KINDS, Context, Reranker
from harness.cache import StageCache
from harness.errors import PluginError, UnknownComponentError
from harness.hookspecs import hookimpl
from harness.plugin_manager import get_plugin_manager
from harness.registry import ComponentRegistry


def context(tmp_path):
    return Context(cache=StageCache(tmp_path / "cache"))


def test_every_hook_is_specified_and_documented():
    hooks = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("harness_")]
    pm = get_plugin_manager(entry_point_plugins=False)
    for name in hooks:
        assert getattr(pm.hook, name).has_spec(), name
        assert len(inspect.getdoc(getattr(hookspecs, name)) or "") > 40, f"{name} lacks a docstring"
    # every component kind has its registering hook
    assert {row.hook for row in KINDS.values()} <= set(hooks)


def test_builtins_are_registered_by_name():
    pm = get_plugin_manager(entry_point_plugins=False)
    assert set(BUILTIN_PLUGINS) <= {name for name, _ in pm.list_name_plugin()}
    registry = ComponentRegistry(pm)
    assert {"bm25", "run"} <= set(registry.names("retriever"))
    assert {"mlflow", "none"} <= set(registry.names("tracking"))
    assert registry.names("tracker") == registry.names("tracking")  # the kind's earlier name still works
    assert registry.get("retriever", "bm25").plugin == "retriever.bm25"


@pytest.mark.slow
def test_builtins_do_not_claim_a_generic_top_level_name(tmp_path):
    """Installed, the built-ins are `harness_plugins`; `plugins` stays free for other projects."""
    import subprocess
    import sys

    probe = "import importlib.util as u; print(u.find_spec('harness_plugins') is not None, u.find_spec('plugins'))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.split() == ["True", "None"], out.stderr


def test_unknown_component_lists_the_registered_names():
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    with pytest.raises(UnknownComponentError, match=r"unknown retriever 'bm52'; registered retrievers: .*bm25.*run"):
        registry.get("retriever", "bm52")


def test_blocked_builtin_is_not_loaded():
    registry = ComponentRegistry(get_plugin_manager(blocked=["retriever.bm25"], entry_point_plugins=False))
    assert "bm25" not in registry.names("retriever")
    with pytest.raises(UnknownComponentError, match="registered retrievers: ") as err:
        registry.get("retriever", "bm25")
    assert "run" in str(err.value).split("registered retrievers: ")[1].split(", ")
    assert "bm25" not in str(err.value).split("registered retrievers: ")[1].split(", ")


def test_blocking_by_environment(monkeypatch):
    monkeypatch.setenv("HARNESS_BLOCK_PLUGINS", "retriever.run, retriever.bm25")
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    assert "bm25" not in registry.names("retriever") and "run" not in registry.names("retriever")
    assert "dense" in registry.names("retriever")  # only the named plugins are blocked


def test_earlier_builtin_names_still_block_their_modules(monkeypatch):
    monkeypatch.setenv("HARNESS_BLOCK_PLUGINS", "run_file, bm25")
    pm = get_plugin_manager(blocked=["noise"], entry_point_plugins=False)
    registry = ComponentRegistry(pm)
    assert "bm25" not in registry.names("retriever") and "run" not in registry.names("retriever")
    assert "dense" in registry.names("retriever")
    assert registry.names("noise") == [] and pm.is_blocked("noise.retrieved")


@dataclass
class EchoConfig:
    offset: float = 1.0


class EchoReranker(Reranker):
    Config = EchoConfig

    def rerank(self, dataset, queries, run):
        return {q: {d: s + self.config.offset for d, s in docs.items()} for q, docs in run.items()}


class EchoPlugin:
    @hookimpl
    def harness_add_rerankers(self):
        return {"echo": EchoReranker}


def test_a_plugin_object_registers_a_component(tmp_path):
    registry = ComponentRegistry(get_plugin_manager(entry_point_plugins=False, extra_plugins=[EchoPlugin()]))
    reranker = registry.create("reranker", {"name": "echo", "offset": 2}, context(tmp_path))
    assert reranker.name == "echo" and reranker.config.offset == 2.0
    assert reranker.rerank(None, [], {"q": {"d": 1.0}}) == {"q": {"d": 3.0}}


class Misspelled:
    @hookimpl
    def harness_add_reranker(self):
        return {}


def test_misspelled_hook_is_an_error_with_a_suggestion():
    with pytest.raises(PluginError, match="unknown hook 'harness_add_reranker'; did you mean 'harness_add_rerankers'"):
        get_plugin_manager(entry_point_plugins=False, extra_plugins=[Misspelled()])
