"""Adapters as small artifacts: the trained parameters alone, beside their metadata.

Saved as safetensors (never pickle) with ``metadata.json`` holding the PEFT
method and config, the backbone it belongs to, every tensor's shape and the
file's sha256, written atomically (PyTerrier-style). Loading checks all of it
and refuses a corrupted or mismatched adapter with a clear error, rather than
producing a silently wrong model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from harness.errors import DataError

WEIGHTS, METADATA = "adapter.safetensors", "metadata.json"


class AdapterError(DataError):
    """An adapter artifact is missing, corrupted or does not fit the model."""


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def trainable_state(model: Any) -> dict[str, Any]:
    return {name: p.detach().to("cpu").contiguous() for name, p in model.named_parameters() if p.requires_grad}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_adapter(model: Any, folder: Path, *, method: str, config: dict, backbone: str, extra: dict | None = None) -> Path:
    """Write the model's trainable parameters and their metadata to ``folder`` atomically."""
    from safetensors.torch import save_file

    import harness

    folder = Path(folder)
    state = trainable_state(model)
    if not state:
        raise AdapterError("nothing to save: the model has no trainable parameters")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    save_file(state, str(tmp / WEIGHTS))
    trainable, total = count_parameters(model)
    meta = {"format": "harness-adapter/1", "method": method, "config": config, "backbone": backbone,
            "shapes": {k: list(v.shape) for k, v in state.items()}, "sha256": _sha256(tmp / WEIGHTS),
            "trainable_parameters": trainable, "total_parameters": total, "harness_version": harness.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **(extra or {})}
    (tmp / METADATA).write_text(json.dumps(meta, indent=2))
    if folder.exists():
        shutil.rmtree(folder)
    os.rename(tmp, folder)
    return folder


def read_metadata(folder: Path) -> dict:
    path = Path(folder) / METADATA
    if not path.exists():
        raise AdapterError(f"not an adapter: {path} is missing")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise AdapterError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    if meta.get("format") != "harness-adapter/1":
        raise AdapterError(f"{path}: unknown adapter format {meta.get('format')!r}")
    return meta


def load_adapter(model: Any, folder: Path, apply_method: Callable[[Any, dict], Any], backbone: str | None = None) -> Any:
    """Apply the saved method to ``model`` and load the adapter's parameters into it, checking everything."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    meta = read_metadata(folder)
    weights = folder / WEIGHTS
    if not weights.exists() or _sha256(weights) != meta["sha256"]:
        raise AdapterError(f"{weights}: corrupted or missing (sha256 differs from {folder / METADATA})")
    if backbone and meta["backbone"] != backbone:
        raise AdapterError(f"{folder}: adapter was trained on backbone {meta['backbone']!r}, not {backbone!r}")
    try:
        state = load_file(str(weights))
    except SafetensorError as exc:
        raise AdapterError(f"{weights}: unreadable safetensors file: {exc}") from None
    model = apply_method(model, meta)
    expected = {name: list(p.shape) for name, p in model.named_parameters() if p.requires_grad}
    saved = {name: list(t.shape) for name, t in state.items()}
    if expected != saved:
        missing = sorted(set(expected) - set(saved))[:3]
        unexpected = sorted(set(saved) - set(expected))[:3]
        shapes = [k for k in set(expected) & set(saved) if expected[k] != saved[k]][:3]
        raise AdapterError(f"{folder}: adapter does not fit the model (method {meta['method']}): "
                           f"missing {missing}, unexpected {unexpected}, shape mismatch {shapes}")
    model.load_state_dict(state, strict=False)
    return model
