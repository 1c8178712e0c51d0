"""``dataset=halueval-qa/train|test``: registers HaluEval-QA with ir_datasets, for RAG.

``halueval-qa`` (all 500 items), ``halueval-qa/train`` and ``halueval-qa/test``
from ``<data root>/halueval-qa/qa_one-turn_data.json``: each item's
``knowledge`` is its gold passage, ``right_answer`` its gold answer. The
split is a stable hash of the item id (40% test), so it never depends on
file order or on a seed.
"""

from __future__ import annotations

import functools
from pathlib import Path

from harness.hookspecs import hookimpl
from harness_plugins.dataset._common import existing

HALUEVAL = "halueval-qa"
HALUEVAL_FILE = "qa_one-turn_data.json"
TEST_SHARE = 0.4


def halueval_item(item: dict, line_no: int) -> dict:
    """One HaluEval line as a generic QA record (its hallucinated answer is kept out)."""
    return {
        "id": f"q{line_no}",
        "question": item["question"],
        "answers": [item["right_answer"]],
        "gold_passages": [{"id": f"p{line_no}", "text": item["knowledge"]}],
    }


def load_halueval(folder: Path, split: str):
    from harness.data.qa_data import in_test_split, read_jsonl

    path = existing(
        folder / HALUEVAL_FILE,
        f"{HALUEVAL}/{split}",
        "looked in the data root's halueval-qa/ (set HARNESS_DATA_ROOT or data_root=...); "
        "copy it from the project's shared data (../shared/data/README.md)",
    )
    keep = {
        "all": lambda q: True,
        "test": lambda q: in_test_split(q, TEST_SHARE),
        "train": lambda q: not in_test_split(q, TEST_SHARE),
    }[split]
    return read_jsonl(path, convert=halueval_item, keep=keep)


def _register(registry, name: str, dataset, folder: Path) -> None:
    # Re-registering with another data root replaces the entry (ir_datasets has
    # no public unregister; msmarco_passage_mini does the same).
    if getattr(registry._registered.get(name), "_harness_folder", None) == folder:
        return
    registry._registered.pop(name, None)
    registry.register(name, dataset)
    registry._registered[name]._harness_folder = folder


@hookimpl
def harness_register_datasets(data_root: Path) -> list[str]:
    import ir_datasets

    from harness.data.qa_irds import qa_dataset

    registry = ir_datasets.registry
    folder = Path(data_root) / HALUEVAL
    names = {HALUEVAL: "all", f"{HALUEVAL}/train": "train", f"{HALUEVAL}/test": "test"}
    for name, split in names.items():
        dataset = qa_dataset(functools.partial(load_halueval, folder, split), files=[folder / HALUEVAL_FILE])
        _register(registry, name, dataset, folder)
    return sorted(names)
