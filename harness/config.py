"""The top-level run config schema and where the Hydra configs live.

The schema is registered in Hydra's ConfigStore and is the first entry of
``conf/config.yaml``'s defaults, so a misspelled top-level key or a value of
the wrong type fails at composition with the key's name; values out of their
declared bounds (``option(..., ge=0)``) fail when the run starts
(:func:`check_run_config`). Component groups are free-form here and validated
against each component's own ``Config`` dataclass when the registry builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from omegaconf import MISSING

from harness import bounds
from harness.components import option


@dataclass
class DatasetConfig:
    id: str = MISSING  # an ir_datasets id, e.g. msmarco-passage-mini/trec-dl-2019
    binary_relevance_level: int = option(1, "binary measures (MRR, MAP, recall) count rel >= this as relevant (TREC DL: 2)", ge=1)
    # True where the corpus is a subset of the real collection: first-stage
    # figures over it are not comparable to published full-collection ones.
    subset_corpus: bool = False
    query_limit: Optional[int] = option(None, "keep only the first N queries (quick looks; null = all)", ge=0)
    # Evaluate only queries that have judgments (e.g. 54 of DL20's 200 topics).
    judged_only: bool = True


@dataclass
class FilesDatasetConfig(DatasetConfig):
    """``dataset=files`` (conf/dataset/files.yaml, docs/datasets.md): a collection given as three files."""

    docs: Optional[str] = option(None, "documents: TSV 'doc_id<TAB>text', JSONL or TREC SGML <DOC>")
    queries: Optional[str] = option(None, "queries: TSV 'query_id<TAB>text', JSONL or TREC topics <top>")
    qrels: Optional[str] = option(None, "relevance judgments, TREC qrels 'qid iter docid label'")
    docs_format: str = option(
        "auto", "detected from the first non-blank character, or given", choices=("auto", "tsv", "jsonl", "trec")
    )
    queries_format: str = option("auto", "detected, or given", choices=("auto", "tsv", "jsonl", "trec"))
    query_field: str = option("title", "the text of a TREC topic", choices=("title", "desc", "narr", "title+desc"))


@dataclass
class EvaluationConfig:
    metrics: list[str] = option(["ndcg@10", "mrr@10", "recall@100", "map"], "measures to report", min_items=1)


@dataclass
class PluginsConfig:
    blocked: list[str] = field(default_factory=list)


@dataclass
class RunConfig:
    experiment_name: str = "default"
    run_name: Optional[str] = None  # default: components + config hash
    seed: int = option(0, "seed of every random draw (initialisation, sampling)", ge=0)
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
    train: Any = None  # fine-tune the reranker or the generator (with the peft method) first; see conf/train
    load_adapter: Optional[str] = None  # or load a saved adapter: a folder or an MLflow run id
    adapter: Optional[str] = None  # deprecated alias of load_adapter (same behaviour, one warning)
    # A suite (conf/suite/): run the system on each of its datasets, each an ordinary run (harness/runs/suite.py).
    suite: Any = None
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    plugins: PluginsConfig = field(default_factory=PluginsConfig)


def check_run_config(config: Mapping[str, Any]) -> None:
    """The resolved run config's values within their declared bounds, or a ConfigError naming the key."""
    bounds.check(config, "run config", schema=RunConfig)


def register_schema() -> None:
    from hydra.core.config_store import ConfigStore

    from omegaconf import OmegaConf

    ConfigStore.instance().store(name="harness_schema", node=RunConfig)
    ConfigStore.instance().store(group="dataset", name="files_schema", node=FilesDatasetConfig)
    if not OmegaConf.has_resolver("harness_path"):  # dataset=files: a file path made absolute, '' for null
        OmegaConf.register_new_resolver("harness_path", lambda p: str(Path(p).expanduser().resolve()) if p else "")


def conf_dir() -> Path:
    """The folder of the harness's Hydra configs (``conf/``, installed as ``harness_conf``)."""
    import harness_conf

    return Path(harness_conf.__file__).parent


def implied(role: str) -> dict[str, Any]:
    """The config (``{"name": ...}``) of the component a run implies for ``role`` without configuring it.

    The names are in ``conf/implied.yaml`` (``tracking``, ``noise``, ``mining``), not in the code.
    """
    import yaml

    names = yaml.safe_load((conf_dir() / "implied.yaml").read_text(encoding="utf-8"))
    return {"name": names[role]}
