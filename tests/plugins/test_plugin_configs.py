"""Installed plugins ship config files (Hydra search path) or register configs from code."""

from harness.testing import compose_run_config

PLUGIN = """
from pathlib import Path
from harness.hookspecs import hookimpl

@hookimpl
def harness_config_dirs():
    return [(Path(__file__).parent / "shipped_conf").as_uri()]

@hookimpl
def harness_register_configs(config_store):
    config_store.store(group="retriever", name="bm25_from_code", node={"name": "bm25", "k1": 1.5})
"""


def install_plugin(folder, monkeypatch) -> None:
    info = folder / "conf_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: conf-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[harness.plugins]\nconf_plugin = conf_plugin_mod\n")
    (folder / "conf_plugin_mod.py").write_text(PLUGIN)
    (folder / "shipped_conf" / "retriever").mkdir(parents=True)
    (folder / "shipped_conf" / "retriever" / "bm25_shipped.yaml").write_text("name: bm25\nb: 0.75\n")
    monkeypatch.syspath_prepend(str(folder))


def test_shipped_config_file_is_found_by_hydra(tmp_path, monkeypatch):
    install_plugin(tmp_path, monkeypatch)
    retriever = compose_run_config(["retriever=bm25_shipped"])["retriever"]
    assert (retriever["name"], retriever["b"]) == ("bm25", 0.75)


def test_config_registered_from_code_is_selectable(tmp_path, monkeypatch):
    install_plugin(tmp_path, monkeypatch)
    retriever = compose_run_config(["retriever=bm25_from_code"])["retriever"]
    assert (retriever["name"], retriever["k1"]) == ("bm25", 1.5)
