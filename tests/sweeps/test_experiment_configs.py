"""Every experiment in conf/experiment/ composes, and so does the first job of its sweep.

Experiments that name components from plugins not installed here (e.g. the
neural rerankers or LoRA before they are merged) skip, naming what is missing.
"""

from __future__ import annotations

import pytest

from harness.config import conf_dir, register_schema

EXPERIMENTS = sorted(path.stem for path in (conf_dir() / "experiment").glob("*.yaml"))


def compose(overrides: list[str]):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import MissingConfigException

    register_schema()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        try:
            return hydra_compose("config", overrides=overrides, return_hydra_config=True)
        except MissingConfigException as exc:
            pytest.skip(f"needs configs not present in this checkout: {exc}")


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_and_its_first_job_compose(name):
    cfg = compose([f"experiment={name}"])
    params = cfg.hydra.sweeper.params or {}
    assert params, f"experiment {name} sweeps nothing"
    first = [f"{key}={str(values).split(',')[0]}" for key, values in params.items()]
    job = compose([f"experiment={name}", *first])
    for key in (k for k in params if "." not in k):  # a swept config group must resolve to its config
        if not hasattr(job[key], "keys"):
            pytest.skip(f"needs the config group option {key}={job[key]} (not in this checkout)")
    assert job.experiment_name == cfg.experiment_name
