"""Each way a plugin can be broken gives one clear, exact message naming it and its distribution (issues 7, 11)."""

import logging
import os
import sys
import types

import pytest

from harness.components import Reranker, Retriever
from harness.errors import PluginError
from harness.hookspecs import hookimpl
from harness.plugin_manager import get_plugin_manager
from harness.registry import ComponentRegistry


def plugin(name: str, **hooks) -> types.SimpleNamespace:
    """A plugin object whose attributes are hook implementations."""
    return types.SimpleNamespace(__name__=name, **{k: hookimpl(v) for k, v in hooks.items()})


class Fine(Reranker):
    def rerank(self, dataset, queries, run):
        return run


def write_entry_point(folder, dist: str, name: str, module: str, source: str) -> None:
    """A minimal installed distribution: a dist-info with one harness.plugins entry point."""
    info = folder / f"{dist}-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text(f"[harness.plugins]\n{name} = {module}\n")
    (folder / f"{module}.py").write_text(source)


def test_misspelled_hook_names_plugin_and_suggests_the_hook():
    typo = plugin("typo", harness_add_rerankerz=lambda: {"x": Fine})
    with pytest.raises(PluginError) as err:
        get_plugin_manager(entry_point_plugins=False, extra_plugins=[typo])
    name = err.value.args[0].split("'")[1]  # pluggy names an unnamed plugin by its id
    assert str(err.value) == (
        f"plugin '{name}' (registered from code) implements unknown hook "
        "'harness_add_rerankerz'; did you mean 'harness_add_rerankers'?"
    )


def test_two_plugins_registering_one_name():
    class OtherBM25(Retriever):
        def retrieve(self, dataset, queries):
            return {}

    pm = get_plugin_manager(entry_point_plugins=False)
    pm.register(plugin("dup", harness_add_retrievers=lambda: {"bm25": OtherBM25}), name="dup")
    with pytest.raises(PluginError) as err:
        ComponentRegistry(pm)
    cls = f"{OtherBM25.__module__}.{OtherBM25.__qualname__}"
    assert str(err.value).startswith(
        "plugin 'dup' (unknown distribution): registers retriever 'bm25' "
        f"({cls}), a name already registered by plugin 'retriever.bm25' (ir-rag-harness "
    )
    assert str(err.value).endswith(" for harness_plugins.retriever.bm25.BM25Retriever; block one with plugins.blocked=[...]")


def test_component_missing_a_required_method():
    class NoVerb(Reranker):
        pass

    pm = get_plugin_manager(entry_point_plugins=False)
    pm.register(plugin("lazy", harness_add_rerankers=lambda: {"noverb": NoVerb}), name="lazy")
    with pytest.raises(PluginError) as err:
        ComponentRegistry(pm)
    assert str(err.value) == (
        f"plugin 'lazy' (unknown distribution): registers reranker 'noverb' "
        f"({NoVerb.__module__}.{NoVerb.__qualname__}), "
        "which does not implement the required method(s): rerank"
    )


def test_component_of_the_wrong_kind():
    pm = get_plugin_manager(entry_point_plugins=False)
    pm.register(plugin("mixed", harness_add_retrievers=lambda: {"fine": Fine}), name="mixed")
    with pytest.raises(PluginError) as err:
        ComponentRegistry(pm)
    assert str(err.value) == (
        f"plugin 'mixed' (unknown distribution): registers retriever 'fine' "
        f"({Fine.__module__}.{Fine.__qualname__}), "
        "which is not a subclass of harness.components.Retriever"
    )


def test_plugin_failing_to_import_is_named_and_the_rest_still_load(tmp_path, monkeypatch, caplog):
    write_entry_point(tmp_path, "broken-plugin", "broken", "broken_plugin_mod", "import numpyy\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="harness.plugin_manager"):
        pm = get_plugin_manager()
    assert pm.harness_failed == {"broken": "ModuleNotFoundError: No module named 'numpyy'"}
    assert caplog.messages == [
        "plugin 'broken' (broken-plugin 0.3, entry point broken_plugin_mod) failed to import "
        "and was skipped: ModuleNotFoundError: No module named 'numpyy'"
    ]
    assert "bm25" in ComponentRegistry(pm).names("retriever")


def test_plugins_list_shows_distribution_version_components_and_failures(tmp_path, monkeypatch, capsys):
    from harness.cli.commands import list_plugins

    source = (
        "from harness.components import Reranker\nfrom harness.hookspecs import hookimpl\n"
        "class Same(Reranker):\n    def rerank(self, dataset, queries, run):\n        return run\n"
        "@hookimpl\ndef harness_add_rerankers():\n    return {'same': Same}\n"
    )
    write_entry_point(tmp_path, "good-plugin", "good", "good_plugin_mod", source)
    (tmp_path / "more").mkdir()
    write_entry_point(tmp_path / "more", "broken-plugin", "broken", "broken_plugin_mod", "raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path / "more"))
    assert list_plugins() == 1  # a plugin failed: non-zero, so that a CI job notices
    lines = capsys.readouterr().out.splitlines()
    assert f"{'good':<28} good-plugin 0.3" in lines
    assert lines[lines.index(f"{'good':<28} good-plugin 0.3") + 1] == "    reranker:same"
    assert f"{'broken':<28} broken-plugin 0.3  FAILED TO LOAD: RuntimeError: boom" in lines
    assert any(line.startswith(f"{'retriever.bm25':<28} ir-rag-harness ") for line in lines)
    assert "    retriever:bm25" in lines


def test_hook_tracing_by_environment_variable(monkeypatch, caplog):
    monkeypatch.setenv("HARNESS_TRACE_HOOKS", "1")
    pm = get_plugin_manager(entry_point_plugins=False)
    with caplog.at_level(logging.INFO, logger="harness.plugin_manager"):
        pm.hook.harness_add_retrievers()
    traced = [m for m in caplog.messages if m.startswith("hook trace:")]
    assert any("harness_add_retrievers" in m for m in traced)


def test_registry_hook_calls_are_traced_too(monkeypatch, caplog):
    monkeypatch.setenv("HARNESS_TRACE_HOOKS", "1")
    with caplog.at_level(logging.INFO, logger="harness.plugin_manager"):
        ComponentRegistry(get_plugin_manager(entry_point_plugins=False))
    assert (
        "hook trace: harness_add_retrievers [plugin retriever.bm25] -> "
        "{'bm25': <class 'harness_plugins.retriever.bm25.BM25Retriever'>}"
    ) in caplog.messages


@pytest.mark.slow
def test_trace_flag_of_plugins_list():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "plugins", "list", "--trace"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "HARNESS_TRACE_HOOKS"},
    )
    assert out.returncode == 0
    assert "hook trace: harness_add_trackers [plugin tracking.mlflow]" in out.stderr


def test_two_distributions_claiming_one_plugin_name(tmp_path, monkeypatch, caplog):
    hook = "from harness.hookspecs import hookimpl\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_entry_point(tmp_path / "a", "first-dist", "same", "same_a_mod", hook)
    write_entry_point(tmp_path / "b", "second-dist", "same", "same_b_mod", hook)
    monkeypatch.syspath_prepend(str(tmp_path / "b"))
    monkeypatch.syspath_prepend(str(tmp_path / "a"))
    with caplog.at_level(logging.WARNING, logger="harness.plugin_manager"):
        pm = get_plugin_manager()
    assert pm.harness_dists["same"] == "first-dist 0.3"
    assert pm.harness_skipped == [
        "plugin 'same' of second-dist 0.3 (entry point same_b_mod) was skipped: the name "
        "is taken by first-dist 0.3; rename one entry point, or block the other"
    ]
    assert caplog.messages == pm.harness_skipped


# --- Faulty hooks, through the CLI: `harness plugins list` marks the plugin and lists the rest;
# `harness run` stops with exit 2 and the same message, never a traceback.

FAULTY_PLUGIN = """from harness.components import Reranker
from harness.hookspecs import hookimpl


class Same(Reranker):
    def rerank(self, dataset, queries, run):
        return run


@hookimpl
def {hook}({args}):
    {body}
"""
LABEL = "plugin 'faulty' (faulty-plugin 0.3)"
FAULTS = {
    "raises": ("harness_add_rerankers", "", "raise RuntimeError('boom')", "hook harness_add_rerankers raised RuntimeError: boom"),
    "list instead of a mapping": (
        "harness_add_rerankers",
        "",
        "return [Same]",
        "hook harness_add_rerankers returned [<class 'faulty_mod.Same'>] (list), not a mapping of component name -> class",
    ),
    "number instead of a class": (
        "harness_add_rerankers",
        "",
        "return {'same': 42}",
        "hook harness_add_rerankers returned {'same': 42}: 'same' is 42 (int), not a class",
    ),
    "string instead of a class": (
        "harness_add_rerankers",
        "",
        "return {'same': 'Same'}",
        "hook harness_add_rerankers returned {'same': 'Same'}: 'same' is 'Same' (str), not a class",
    ),
    "name that is not a string": (
        "harness_add_rerankers",
        "",
        "return {5: Same}",
        "hook harness_add_rerankers returned {5: <class 'faulty_mod.Same'>}: the name 5 (int) is not a non-empty string",
    ),
    "datasets hook raises": (
        "harness_register_datasets",
        "data_root",
        "raise OSError('no data here')",
        "hook harness_register_datasets raised OSError: no data here",
    ),
    "datasets hook returns no list": (
        "harness_register_datasets",
        "data_root",
        "return 'faulty/ds'",
        "hook harness_register_datasets returned 'faulty/ds' (str), not a list of strings",
    ),
    "config dirs hook raises": (
        "harness_config_dirs",
        "",
        "raise ValueError('bad dir')",
        "hook harness_config_dirs raised ValueError: bad dir",
    ),
    "configs hook raises": (
        "harness_register_configs",
        "config_store",
        "raise KeyError('preset')",
        "hook harness_register_configs raised KeyError: 'preset'",
    ),
}


def install_faulty(folder, kind: str) -> str:
    """A distribution 'faulty-plugin 0.3' whose one hook has the fault; returns the expected error message."""
    hook, args, body, message = FAULTS[kind]
    write_entry_point(folder, "faulty-plugin", "faulty", "faulty_mod", FAULTY_PLUGIN.format(hook=hook, args=args, body=body))
    return f"{LABEL}: {message}"


@pytest.mark.parametrize("kind", list(FAULTS))
def test_plugins_list_marks_a_faulty_hook_and_lists_the_others(kind, tmp_path, monkeypatch, capsys):
    from harness.cli import main

    message = install_faulty(tmp_path, kind)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "faulty_mod", raising=False)  # each case imports its own version
    assert main(["plugins", "list"]) == 1
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("faulty "))
    assert lines[header] == f"{'faulty':<28} faulty-plugin 0.3  FAULTY"
    assert f"    FAULT: {message}" in lines[header + 1 : header + 3]
    assert "    retriever:bm25" in lines and "    reranker:cross_encoder" in lines
    assert not any(line.startswith("    reranker:same") for line in lines)  # nothing half-registered


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(FAULTS))
def test_harness_run_stops_on_a_faulty_hook_with_exit_2(kind, tiny_root, tmp_path):
    import subprocess

    message = install_faulty(tmp_path, kind)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "tracking=none", f"results_dir={tmp_path / 'results'}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr[-3000:]
    assert f"harness: error: {message}" in out.stderr.splitlines()
    assert "Traceback" not in out.stderr


def test_a_faulty_hook_is_an_error_in_the_registry_and_the_dataset_registration(tmp_path):
    from harness.data.datasets import register_all

    pm = get_plugin_manager(entry_point_plugins=False)
    pm.register(
        plugin("bad", harness_add_metrics=lambda: {"m": "not a class"}, harness_register_datasets=lambda data_root: 1 / 0),
        name="bad",
    )
    with pytest.raises(
        PluginError,
        match=r"^plugin 'bad' \(unknown distribution\): hook harness_add_metrics "
        r"returned \{'m': 'not a class'\}: 'm' is 'not a class' \(str\), "
        r"not a class$",
    ):
        ComponentRegistry(pm)
    with pytest.raises(
        PluginError,
        match=r"^plugin 'bad' \(unknown distribution\): hook harness_register_datasets "
        r"raised ZeroDivisionError: division by zero$",
    ):
        register_all(pm, tmp_path)
    faults: dict[str, list[str]] = {}
    assert "bm25" in ComponentRegistry(pm, faults=faults).names("retriever")
    assert list(faults) == ["bad"] and len(faults["bad"]) == 1
