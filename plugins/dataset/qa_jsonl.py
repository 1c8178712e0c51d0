"""``dataset=qa-jsonl dataset.id=qa-jsonl:/path/to/file.jsonl``: any QA JSONL file, for RAG.

Any file in the generic QA format of docs/rag.md, with no code to write: an
ir_datasets id pattern, so every ``qa-jsonl:<path>`` id loads that file.
"""

from __future__ import annotations

import functools
from pathlib import Path

from harness.hookspecs import hookimpl
from harness_plugins.dataset._common import existing

PATTERN = r"^qa-jsonl:(.+)$"


def load_jsonl(path: str):
    from harness.data.qa_data import read_jsonl

    file = existing(Path(path).expanduser(), f"qa-jsonl:{path}", "give an existing QA JSONL file (docs/rag.md)")
    return read_jsonl(file)


@hookimpl
def harness_register_datasets(data_root: Path) -> list[str]:
    import ir_datasets

    from harness.data.qa_irds import qa_dataset

    registry = ir_datasets.registry
    if not any(pattern.pattern == PATTERN for pattern, _ in registry._patterns):
        registry.register_pattern(
            PATTERN,
            lambda name, groups: qa_dataset(functools.partial(load_jsonl, groups[0]), files=[Path(groups[0]).expanduser()]),
        )
    return []
