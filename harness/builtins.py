"""The built-in plugins, listed in one place.

Built-ins are ordinary plugin modules (see ``plugins/``, installed as
``harness_plugins``); each is registered under the short name on the left,
which is also the name to block it by (``plugins.blocked=[bm25]`` or
``HARNESS_BLOCK_PLUGINS=bm25``).
"""

BUILTIN_PLUGINS: dict[str, str] = {
    "msmarco_mini": "harness_plugins.msmarco_mini",
    "bm25": "harness_plugins.bm25",
    "run_file": "harness_plugins.run_file",
    "dense": "harness_plugins.dense",
    "bi_encoder": "harness_plugins.bi_encoder",
    "cross_encoder": "harness_plugins.cross_encoder",
    "late_interaction": "harness_plugins.late_interaction",
    "peft_none": "harness_plugins.peft_none",
    "lora": "harness_plugins.lora",
    "bottleneck_adapter": "harness_plugins.bottleneck_adapter",
    "mlflow": "harness_plugins.mlflow_tracker",
    "no_tracking": "harness_plugins.no_tracking",
    "qa_datasets": "harness_plugins.qa_datasets",
    "dataset_files": "harness_plugins.dataset_files",
    "hf_generator": "harness_plugins.hf_generator",
    "noise": "harness_plugins.noise",
}
