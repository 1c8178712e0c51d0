"""What the three scorers share: weights, tokenizer, device, dtype, batch size, identity.

``dtype=int8`` keeps ``self.model`` in fp32 (PEFT and adapters act on it) and
runs inference through its int8 ONNX Runtime copy (harness.models.int8), built
on first use from the model as it is then (an adapter loaded later is merged in).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

from harness.cache import StageCache, code_version
from harness.errors import ConfigError
from harness.models.loading import load_tokenizer, model_fingerprint, pick_device, pick_dtype


class NeuralScorer:
    """Base of the scorers; subclasses set ``self.model`` (the trainable torch module)."""

    model: Any
    output: Optional[str] = "last_hidden_state"  # what the module's forward gives that the scorer reads

    def __init__(
        self,
        model: Optional[str] = None,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 32,
        show_progress: bool = False,
        seed: int = 0,
        cache: Any = None,
    ):
        self.model_name = model
        self.int8 = dtype == "int8"
        self.device = pick_device("cpu" if self.int8 and device in ("auto", "", None) else device)
        if self.int8 and self.device.type != "cpu":
            raise ConfigError(
                f"dtype=int8 is the CPU fast path, but device is {self.device}: use dtype=bf16 (or auto) on a GPU, or device=cpu"
            )
        self.dtype = pick_dtype("float32" if self.int8 else dtype, self.device)
        self.cache = cache
        self._fast: tuple[Any, Any] = (None, None)
        self.tokenizer = load_tokenizer(model)
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.seed = seed

    def identity(self) -> dict[str, Any]:
        """What determines this scorer's encodings, for cache keys (subclasses add their options)."""
        return {
            "kind": type(self).__name__,
            **model_fingerprint(self.model_name),
            "dtype": "int8" if self.int8 else str(self.dtype).removeprefix("torch."),
            "code": code_version(type(self)),
        }

    def forward(self, **batch: Any) -> Any:
        """``self.model(**batch)``, or its int8 copy's answer under ``dtype=int8`` (inference only)."""
        if not self.int8:
            return self.model(**batch)
        import torch

        if torch.is_grad_enabled():
            from harness.models.int8 import TRAINING_REFUSED

            raise ConfigError(TRAINING_REFUSED)
        if self._fast[0] is not self.model:  # first call, or the model was replaced (an adapter loaded)
            from harness.models.int8 import quantized

            self._fast = (self.model, quantized(self.model, batch, self.output, self.cache or model_cache()))
        return self._fast[1](**batch)

    @contextmanager
    def reference(self) -> Iterator[None]:
        """Inside: the fp32 torch module answers even under ``dtype=int8`` (to measure the int8 change)."""
        int8, self.int8 = self.int8, False
        try:
            yield
        finally:
            self.int8 = int8


def model_cache() -> StageCache:
    """Where a scorer built outside a run (no stage cache handed in) keeps its int8 models."""
    return StageCache(Path(os.environ.get("HARNESS_MODEL_CACHE", "~/.cache/ir-rag-harness")).expanduser())
