"""What the three scorers share: weights, tokenizer, device, dtype, batch size, identity."""

from __future__ import annotations

from typing import Any, Optional

from harness.cache import code_version
from harness.models.loading import load_tokenizer, model_fingerprint, pick_device, pick_dtype


class NeuralScorer:
    """Base of the scorers; subclasses set ``self.model`` (the trainable torch module)."""

    model: Any

    def __init__(self, model: Optional[str] = None, device: str = "auto", dtype: str = "auto",
                 batch_size: int = 32, show_progress: bool = False, seed: int = 0):
        self.model_name = model
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.tokenizer = load_tokenizer(model)
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.seed = seed

    def identity(self) -> dict[str, Any]:
        """What determines this scorer's encodings, for cache keys (subclasses add their options)."""
        return {"kind": type(self).__name__, **model_fingerprint(self.model_name),
                "dtype": str(self.dtype).removeprefix("torch."), "code": code_version(type(self))}
