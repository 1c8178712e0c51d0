"""The top-level run config schema and where the Hydra configs live.

The schema is registered in Hydra's ConfigStore and is the first entry of
``conf/config.yaml``'s defaults, so a misspelled top-level key or a value of
the wrong type fails at composition with the key's name. Component groups are
free-form here and validated against each component's own ``Config``
dataclass when the registry builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from omegaconf import MISSING


@dataclass
class DatasetConfig:
    id: str = MISSING  # an ir_datasets id, e.g. msmarco-passage-mini/trec-dl-2019
    # Binary measures (MRR, MAP, recall) count rel >= this as relevant (TREC DL: 2).
    binary_relevance_level: int = 1
    # True where the corpus is a subset of the real collection: first-stage
    # figures over it are not comparable to published full-collection ones.
    subset_corpus: bool = False
    # Keep only the first N queries (quick looks; None = all).
    query_limit: Optional[int] = None
    # Evaluate only queries that have judgments (e.g. 54 of DL20's 200 topics).
    judged_only: bool = True


@dataclass
class EvaluationConfig:
    metrics: list[str] = field(default_factory=lambda: ["ndcg@10", "mrr@10", "recall@100", "map"])


@dataclass
class PluginsConfig:
    blocked: list[str] = field(default_factory=list)


@dataclass
class RunConfig:
    experiment_name: str = "default"
    run_name: Optional[str] = None  # default: components + config hash
    seed: int = 0
    device: str = "auto"
    data_root: Optional[str] = None  # default: HARNESS_DATA_ROOT, else ../shared/data
    results_dir: str = "results"
    cache_dir: Optional[str] = None  # default: <results_dir>/cache
    use_cache: bool = True
    # Skip jobs whose config already finished (see harness/resume.py); null = on for sweeps (-m) only.
    resume: Optional[bool] = None
    show_progress: bool = True
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    retriever: Any = MISSING
    reranker: Any = None
    peft: Any = None
    generator: Any = None
    noise: Any = None
    tracking: Any = None
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    plugins: PluginsConfig = field(default_factory=PluginsConfig)


def register_schema() -> None:
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="harness_schema", node=RunConfig)


def conf_dir() -> Path:
    """The folder of the harness's Hydra configs (``conf/``, installed as ``harness_conf``)."""
    import harness_conf

    return Path(harness_conf.__file__).parent
