"""``peft=none``: the two baselines of any PEFT comparison, frozen and full fine-tuning."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.components import PeftMethod, option
from harness.hookspecs import hookimpl


@dataclass
class NoPeftConfig:
    mode: str = option("frozen", "frozen: train nothing (zero-shot); full: train every weight", choices=("frozen", "full"))


class NoPeft(PeftMethod):
    Config = NoPeftConfig

    def apply(self, model: Any) -> Any:
        for parameter in model.parameters():
            parameter.requires_grad_(self.config.mode == "full")
        return model


@hookimpl
def harness_add_peft_methods():
    return {"none": NoPeft}
