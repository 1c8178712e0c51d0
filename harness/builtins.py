"""The built-in plugins, listed in one place.

Built-ins are ordinary plugin modules (see ``plugins/``, installed as
``harness_plugins``), one per config option: ``plugins/<group>/<option>.py``
provides ``<group>=<option>`` (hyphens become underscores; a dataset module may
provide a family of nested options). Each is registered under the name
``<group>.<module>`` (``retriever.bm25``, ``tracking.mlflow``), which is also
the name to block it by (``plugins.blocked=[retriever.bm25]`` or
``HARNESS_BLOCK_PLUGINS=retriever.bm25``). The names of earlier versions still
block the same modules (``LEGACY_NAMES``).
"""

BUILTIN_PLUGINS: dict[str, str] = {
    name: f"harness_plugins.{name}"
    for name in [
        "dataset.msmarco_passage_mini",
        "retriever.bm25",
        "retriever.run",
        "retriever.dense",
        "reranker.bi_encoder",
        "reranker.cross_encoder",
        "reranker.late_interaction",
        "peft.none",
        "peft.lora",
        "peft.adapter",
        "tracking.mlflow",
        "tracking.none",
        "dataset.halueval_qa",
        "dataset.qa_jsonl",
        "dataset.files",
        "generator.hf",
        "noise.random",
        "noise.hard",
        "noise.counterfactual",
        "noise.retrieved",
    ]
}

# Built-in plugin names before the modules were named after their config options.
LEGACY_NAMES: dict[str, tuple[str, ...]] = {
    "msmarco_mini": ("dataset.msmarco_passage_mini",),
    "qa_datasets": ("dataset.halueval_qa", "dataset.qa_jsonl"),
    "bm25": ("retriever.bm25",),
    "run_file": ("retriever.run",),
    "dense": ("retriever.dense",),
    "bi_encoder": ("reranker.bi_encoder",),
    "cross_encoder": ("reranker.cross_encoder",),
    "late_interaction": ("reranker.late_interaction",),
    "peft_none": ("peft.none",),
    "lora": ("peft.lora",),
    "bottleneck_adapter": ("peft.adapter",),
    "mlflow": ("tracking.mlflow",),
    "no_tracking": ("tracking.none",),
    "dataset_files": ("dataset.files",),
    "hf_generator": ("generator.hf",),
    "noise": ("noise.random", "noise.hard", "noise.counterfactual", "noise.retrieved"),
}
