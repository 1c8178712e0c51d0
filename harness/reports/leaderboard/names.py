"""Readable system names, first-stage identities and short sources, from a run's flattened config.

A tracked run's params are its config flattened (``retriever.name``,
``reranker.name``, ``peft.r``, ...; a null group is the string ``None``). From
them come the name a reader recognises (``bm25 (official run)``,
``bm25 + cross_encoder [lora r=8]``), what first stage the run *is* (a run
without reranker or generator) and what first stage it *builds on* (a run with
one): the baseline rule (:mod:`.baseline`) matches the two.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Optional

NULL = ("", "None", "null")
# The system behind a dataset's own scored docs ('retriever=run' without a path), by dataset id prefix.
OFFICIAL_RUNS = {"msmarco-passage": "bm25"}
# Params of a retriever that say how it runs, not what it retrieves.
NOT_RETRIEVAL = ("device", "batch_size", "show_progress", "dtype", "threads", "workers")
PEFT_SHOWN = {"lora": ("r",), "adapter": ("reduction_factor", "bottleneck"), "bottleneck_adapter": ("bottleneck",)}


def _given(params: Mapping[str, str], key: str) -> Optional[str]:
    value = params.get(key)
    return None if value is None or value in NULL else value


def run_file_key(path: str) -> str:
    return "run:" + str(Path(path).expanduser().resolve())


def first_stage_key(params: Mapping[str, str], dataset: str) -> Optional[str]:
    """What first stage a run's retriever is: a run file by its resolved path, else the retriever's params."""
    name = _given(params, "retriever.name")
    if name is None:
        return None
    if name == "run" and _given(params, "retriever.path"):
        return run_file_key(params["retriever.path"])
    own = {
        k: v for k, v in sorted(params.items()) if k.startswith("retriever.") and not k.split(".")[-1].startswith(NOT_RETRIEVAL)
    }
    return f"{dataset}|{json.dumps(own, sort_keys=True)}"


def builds_on_stage(params: Mapping[str, str]) -> bool:
    """A run whose retriever feeds a later stage (a reranker or a generator)."""
    return bool(_given(params, "reranker.name") or _given(params, "generator.name"))


def retriever_label(params: Mapping[str, str], dataset: str) -> str:
    name = _given(params, "retriever.name") or "?"
    if name != "run":
        return name
    path = _given(params, "retriever.path")
    if path:
        return f"run {Path(path).name}"
    system = next((s for prefix, s in OFFICIAL_RUNS.items() if dataset.startswith(prefix)), None)
    return f"{system} (official run)" if system else "official run"


def training_label(params: Mapping[str, str]) -> str:
    """``[lora r=8]`` for a trained (or adapter-loaded) stage; empty when nothing is trained."""
    peft = _given(params, "peft.name")
    trained = (
        any(k.startswith("train.") and _given(params, k) for k in params)
        or _given(params, "load_adapter")
        or _given(params, "adapter")
    )  # the option's earlier name, in earlier runs
    if not peft or peft == "none" or not trained:
        return ""
    shown = [f"{key}={params[f'peft.{key}']}" for key in PEFT_SHOWN.get(peft, ()) if _given(params, f"peft.{key}")]
    return f" [{' '.join([peft, *shown])}]"


def system_name(params: Mapping[str, str], dataset: str, run_name: str = "") -> str:
    """A run named explicitly (``run_name=...``) keeps its name; otherwise the name its config gives."""
    if _given(params, "run_name"):
        return params["run_name"]
    if not _given(params, "retriever.name"):
        return run_name
    parts = [retriever_label(params, dataset)]
    parts += [params[f"{g}.name"] for g in ("reranker", "generator") if _given(params, f"{g}.name")]
    return " + ".join(parts) + training_label(params)


def short_path(path: Path | str) -> str:
    """A path relative to the current folder where that is shorter, else as given."""
    text = str(path)
    try:
        relative = os.path.relpath(Path(path).resolve())
    except ValueError:  # another drive (Windows)
        return text
    return relative if len(relative) < len(str(Path(path).resolve())) else text
