"""The built-in plugins, listed in one place.

Built-ins are ordinary plugin modules (see ``plugins/``, installed as
``harness_plugins``); each is registered under the short name on the left,
which is also the name to block it by (``plugins.blocked=[bm25]`` or
``HARNESS_BLOCK_PLUGINS=bm25``).
"""

BUILTIN_PLUGINS: dict[str, str] = {
    "msmarco_mini": "harness_plugins.dataset.msmarco_passage_mini",
    "bm25": "harness_plugins.retriever.bm25",
    "run_file": "harness_plugins.retriever.run",
    "dense": "harness_plugins.retriever.dense",
    "bi_encoder": "harness_plugins.reranker.bi_encoder",
    "cross_encoder": "harness_plugins.reranker.cross_encoder",
    "late_interaction": "harness_plugins.reranker.late_interaction",
    "peft_none": "harness_plugins.peft.none",
    "lora": "harness_plugins.peft.lora",
    "bottleneck_adapter": "harness_plugins.peft.adapter",
    "mlflow": "harness_plugins.tracking.mlflow",
    "no_tracking": "harness_plugins.tracking.none",
    "qa_datasets": "harness_plugins.dataset.halueval_qa",
    "hf_generator": "harness_plugins.generator.hf",
    "noise": "harness_plugins.noise._common",
}
