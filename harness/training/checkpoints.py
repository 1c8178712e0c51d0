"""A training loop's checkpoint: one file, replaced atomically, so a killed training resumes.

``harness.training.loop.optimise`` saves its whole state (trainable weights,
optimizer, schedule, RNG, curves, early-stopping state) every ``every`` steps
and loads it when it starts. The file is written beside itself and renamed into
place: a kill while saving leaves the previous checkpoint whole.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from harness.errors import DataError

logger = logging.getLogger(__name__)
FILE = "checkpoint.pt"


class Checkpoint:
    def __init__(self, folder: Path, every: int):
        if every < 1:
            raise ValueError(f"checkpoint every {every} steps: must be >= 1")
        self.folder, self.every = Path(folder), every
        self.path = self.folder / FILE

    def load(self) -> dict[str, Any] | None:
        """The last saved state, or None when there is none."""
        import torch

        if not self.path.exists():
            return None
        try:
            return torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a damaged file: say which, and how to start over
            first = (str(exc).splitlines() or [""])[0][:120]
            raise DataError(
                f"{self.path}: cannot read the training checkpoint ({type(exc).__name__}: {first}); "
                "delete it to train from the start"
            ) from None

    def save(self, state: dict[str, Any]) -> None:
        import torch

        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{FILE}.{os.getpid()}.tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.path)
        logger.info("checkpoint saved at step %d (%s)", state["step"], self.path)

    def remove(self) -> None:
        """Once the trained adapter is in the cache the checkpoint is no longer needed."""
        shutil.rmtree(self.folder, ignore_errors=True)
