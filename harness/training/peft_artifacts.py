"""Adapters as small artifacts: the trained parameters alone, beside their metadata.

Saved as safetensors (never pickle) with ``metadata.json`` holding the PEFT
method and config, the backbone it belongs to (name, architecture, digests of
its config and weights: see harness/models/backbone.py), every tensor's shape and the
file's sha256, written atomically (PyTerrier-style). Loading checks all of it
and refuses a malformed, corrupted or mismatched adapter with a clear error
naming the file, rather than producing a silently wrong model.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import reprlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from harness.models.backbone import CANONICAL_DTYPES
from harness.models.backbone import mismatch as backbone_mismatch
from harness.errors import DataError, HarnessError

WEIGHTS, METADATA = "adapter.safetensors", "metadata.json"
FORMAT = "harness-adapter/2"  # /2: the backbone's identity (architecture, config and weights digests)


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


def save_adapter(model: Any, folder: Path, *, method: str, config: dict, backbone: dict, extra: dict | None = None) -> Path:
    """Write the model's trainable parameters and their metadata to ``folder`` atomically.

    ``backbone`` is :func:`harness.models.backbone.identify` of the model before the method was applied.
    """
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
    meta = {
        "format": FORMAT,
        "method": method,
        "config": config,
        "backbone": backbone,
        "shapes": {k: list(v.shape) for k, v in state.items()},
        "sha256": _sha256(tmp / WEIGHTS),
        "trainable_parameters": trainable,
        "total_parameters": total,
        "harness_version": harness.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(extra or {}),
    }
    meta["metadata_sha256"] = metadata_digest(meta)
    problem = _metadata_problem(meta)
    if problem:  # a caller's mistake (e.g. a backbone that is no identity): never write what load refuses
        raise AdapterError(f"{folder}: adapter metadata would be malformed: {problem}")
    (tmp / METADATA).write_text(json.dumps(meta, indent=2))
    if folder.exists():
        shutil.rmtree(folder)
    os.rename(tmp, folder)
    return folder


def read_metadata(folder: Path) -> dict:
    """The adapter's metadata, checked key by key: any malformed file is an AdapterError naming it."""
    path = Path(folder) / METADATA
    if not path.is_file():
        raise AdapterError(f"not an adapter: {path} is missing")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AdapterError(f"{path}: unreadable: {exc.strerror or exc}") from None
    try:
        meta = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AdapterError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise AdapterError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of thousands of digits, or nesting too deep
        raise AdapterError(f"{path}: invalid JSON: {type(exc).__name__}: {exc}") from None
    if not isinstance(meta, dict):
        raise AdapterError(f"{path}: adapter metadata must be a JSON object, not a JSON {type(meta).__name__}")
    if meta.get("format") == "harness-adapter/1":
        raise AdapterError(
            f"{path}: this adapter (format harness-adapter/1, from an older harness) records no "
            "digest of its backbone, so it cannot be checked against the model it would load onto; "
            "re-create it: re-run its training (its 'train' entry holds the training config) with "
            "this version of the harness"
        )
    problem = _metadata_problem(meta)
    if problem:
        raise AdapterError(f"{path}: malformed adapter metadata: {problem}")
    if meta["metadata_sha256"] != metadata_digest(meta):  # a flipped digit of alpha is still valid JSON
        raise AdapterError(
            f"{path}: its content differs from its own checksum (metadata_sha256): the file was "
            "edited or corrupted; re-create the adapter"
        )
    return meta


def metadata_digest(meta: dict) -> str:
    """sha256 of the metadata's canonical JSON, its own ``metadata_sha256`` left out."""
    content = {k: v for k, v in meta.items() if k != "metadata_sha256"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def load_adapter(model: Any, folder: Path, apply_method: Callable[[Any, dict], Any], backbone: str) -> Any:
    """Apply the saved method to ``model`` (the backbone called ``backbone``, as loaded) and load the
    adapter's parameters into it, checking everything: metadata, weights checksum, backbone identity
    (architecture, name, config and weights digests), then the tensors' names and shapes."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    meta = read_metadata(folder)
    weights = folder / WEIGHTS
    if not weights.is_file() or _sha256(weights) != meta["sha256"]:
        raise AdapterError(f"{weights}: corrupted or missing (sha256 differs from {folder / METADATA})")
    problem = backbone_mismatch(meta["backbone"], model, backbone)
    if problem:
        raise AdapterError(f"{folder}: adapter does not belong to this backbone: {problem}")
    try:
        state = load_file(str(weights))
    except SafetensorError as exc:
        raise AdapterError(f"{weights}: unreadable safetensors file: {exc}") from None
    try:
        model = apply_method(model, meta)
    except HarnessError as exc:
        raise AdapterError(
            f"{folder}: cannot apply the adapter's method {meta['method']!r} with its saved config: {exc}"
        ) from None
    expected = {name: list(p.shape) for name, p in model.named_parameters() if p.requires_grad}
    saved = {name: list(t.shape) for name, t in state.items()}
    if expected != saved:
        missing = sorted(set(expected) - set(saved))[:3]
        unexpected = sorted(set(saved) - set(expected))[:3]
        shapes = [k for k in set(expected) & set(saved) if expected[k] != saved[k]][:3]
        raise AdapterError(
            f"{folder}: adapter does not fit the model (method {meta['method']}): "
            f"missing {missing}, unexpected {unexpected}, shape mismatch {shapes}"
        )
    model.load_state_dict(state, strict=False)
    return model


_HEX64 = re.compile(r"[0-9a-f]{64}")
# key -> (accepted types, what they are called); an int is never a bool here.
_TOP = {
    "format": (str, "a string"),
    "method": (str, "a string"),
    "config": (dict, "a JSON object"),
    "backbone": (dict, "a JSON object"),
    "shapes": (dict, "a JSON object"),
    "sha256": (str, "a string"),
    "metadata_sha256": (str, "a string"),
}
_BACKBONE = {
    "name": (str, "a string"),
    "model_class": (str, "a string"),
    "model_type": ((str, type(None)), "a string or null"),
    "hidden_size": ((int, type(None)), "an integer or null"),
    "num_layers": ((int, type(None)), "an integer or null"),
    "config_sha256": (str, "a string"),
    "weights_sha256": (dict, "a JSON object"),
}


def _metadata_problem(meta: dict) -> str | None:
    """What is wrong with the metadata's structure (None: nothing): the first missing or mistyped key."""
    problem = _typed(meta, _TOP, "") or (None if meta["format"] == FORMAT else f"unknown format {meta['format']!r}")
    problem = problem or _typed(meta["backbone"], _BACKBONE, "backbone.")
    if problem:
        return problem
    bad_shapes = [k for k, v in meta["shapes"].items() if not (isinstance(v, list) and all(_count(n) for n in v))]
    digests = meta["backbone"]["weights_sha256"]
    checks = [
        (bool(meta["method"]), "key 'method' is empty"),
        (not bad_shapes, f"key 'shapes': {bad_shapes[:1]} is not a list of non-negative integers"),
        (bool(_HEX64.fullmatch(meta["sha256"])), "key 'sha256' is not a sha256 hex digest"),
        (bool(_HEX64.fullmatch(meta["backbone"]["config_sha256"])), "key 'backbone.config_sha256' is not a sha256 hex digest"),
        (
            bool(digests)
            and all(k in CANONICAL_DTYPES and isinstance(v, str) and _HEX64.fullmatch(v) for k, v in digests.items()),
            f"key 'backbone.weights_sha256' must map some of {', '.join(CANONICAL_DTYPES)} to sha256 hex digests",
        ),
        (meta.get("part", "reranker") in ("reranker", "generator"), "key 'part' is neither reranker nor generator"),
    ]
    return next((message for ok, message in checks if not ok), None)


def _typed(values: dict, fields: dict, prefix: str) -> str | None:
    for key, (types, called) in fields.items():
        if key not in values:
            return f"key '{prefix}{key}' is missing"
        value = values[key]
        if isinstance(value, bool) or not isinstance(value, types):
            return f"key '{prefix}{key}' is {reprlib.repr(value)}, not {called}"
    return None


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
