"""What an adapter was trained on: its backbone's name, architecture and a digest of config and weights.

Computed once per training (on the backbone as loaded, before the PEFT method
changes it) and once per load, then compared: an adapter on another model of the
same shapes would load silently and give wrong figures.

The weights digest is a sha256 over every tensor of the state dict, by name,
shape and bytes. So that an adapter trained in float32 still loads onto the
same checkpoint loaded in bfloat16 or float16 (and one trained on a bf16 GPU
onto the fp32 CPU model), a float32 backbone records the digest of its weights
cast to each of the three dtypes: casting is what ``from_pretrained(dtype=...)``
does, so the casts are bit-identical to the checkpoint loaded in that dtype.
Loading compares the most precise dtype both sides have.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Optional

CANONICAL_DTYPES = ("float32", "bfloat16", "float16")
# Config entries that say how, not what, was loaded: they differ between loads of one checkpoint.
VOLATILE_CONFIG_KEYS = {"transformers_version", "dtype", "torch_dtype"}


def identify(model: Any, name: str) -> dict[str, Any]:
    """The backbone's identity as recorded in an adapter's metadata (``backbone``)."""
    return {
        "name": name,
        **architecture(model),
        "config_sha256": config_digest(model),
        "weights_sha256": {dtype: weights_digest(model, dtype) for dtype in castable_dtypes(model)},
    }


def architecture(model: Any) -> dict[str, Any]:
    """Model class and, from its transformers config, model type, hidden size and layer count."""
    config = _hf_config(model)
    return {
        "model_class": type(model).__name__,
        "model_type": getattr(config, "model_type", None),
        "hidden_size": getattr(config, "hidden_size", None),
        "num_layers": getattr(config, "num_hidden_layers", None),
    }


def describe(identity: dict[str, Any]) -> str:
    """``'name' (BertModel, model_type bert, hidden 384, 6 layers)``."""
    return (
        f"'{identity['name']}' ({identity['model_class']}, model_type {identity['model_type']}, "
        f"hidden {identity['hidden_size']}, {identity['num_layers']} layers)"
    )


def config_digest(model: Any) -> str:
    """sha256 of the transformers config's non-default entries (how it was loaded left out)."""
    config = _hf_config(model)
    entries = config.to_diff_dict() if config is not None else {}
    kept = {k: v for k, v in entries.items() if not k.startswith("_") and k not in VOLATILE_CONFIG_KEYS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


def castable_dtypes(model: Any) -> list[str]:
    """The canonical dtypes this model's weights are exactly as loaded in, or can be cast to from float32."""
    present = {str(t.dtype).removeprefix("torch.") for t in model.state_dict().values() if t.is_floating_point()}
    return [d for d in CANONICAL_DTYPES if present <= {d, "float32"}]


def weights_digest(model: Any, dtype: str) -> str:
    """sha256 over the state dict: each tensor's name, shape and bytes, floating ones cast to ``dtype``."""
    import torch

    target = getattr(torch, dtype)
    digest = hashlib.sha256()
    state = model.state_dict()
    for name in sorted(state):
        tensor = state[name].detach()
        if tensor.is_floating_point():
            tensor = tensor.to(dtype=target)
        digest.update(f"{name}:{list(tensor.shape)}:{tensor.dtype};".encode())
        digest.update(tensor.to("cpu").contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def mismatch(saved: dict[str, Any], model: Any, name: str) -> Optional[str]:
    """Why ``model`` (called ``name``) is not the backbone an adapter recorded as ``saved``; None if it is."""
    current = {"name": name, **architecture(model)}
    if any(saved[key] != current[key] for key in ("model_class", "model_type", "hidden_size", "num_layers")):
        return f"another architecture: trained on {describe(saved)}, being loaded onto {describe(current)}"
    common = [d for d in castable_dtypes(model) if d in saved["weights_sha256"]]
    if not common:
        return (
            f"trained on {describe(saved)} in {', '.join(saved['weights_sha256'])}, which a "
            f"{', '.join(castable_dtypes(model)) or 'non-float'} model cannot be compared with: load the "
            f"backbone in {next(iter(saved['weights_sha256']))} (or float32)"
        )
    same_weights = weights_digest(model, common[0]) == saved["weights_sha256"][common[0]]
    if saved["name"] != name:
        hint = f"; the weights are the same: load it with model={saved['name']}" if same_weights else ""
        return f"trained on backbone '{saved['name']}', not '{name}'{hint}"
    if config_digest(model) != saved["config_sha256"]:
        return f"trained on {describe(saved)} with another config (config sha256 differs)"
    if not same_weights:
        return (
            f"trained on {describe(saved)}, but the weights of the model it is being loaded onto differ "
            f"({common[0]} sha256 {saved['weights_sha256'][common[0]][:12]}... recorded): another checkpoint "
            "under the same name, or a head initialised from another seed"
        )
    return None


def _hf_config(model: Any) -> Any:
    """The transformers config of the model or of the first submodule that has one (e.g. a wrapped encoder)."""
    for module in model.modules():
        config = getattr(module, "config", None)
        if config is not None and hasattr(config, "to_diff_dict"):
            return config
    return None
