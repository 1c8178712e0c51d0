"""Composing the run config as ``harness run`` would, for plugin tests."""

from __future__ import annotations

from typing import Any, Sequence


def compose_run_config(overrides: Sequence[str] = ()) -> Any:
    """The composed config for ``harness run OVERRIDES``, with installed plugins' config folders searched."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from harness.cli.commands import extra_search_path
    from harness.config import conf_dir, register_schema

    register_schema()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose("config", overrides=[*extra_search_path(list(overrides)), *overrides])
