"""``peft=lora``: LoRA through the peft library.

LoRA learns B (d x r) and A (r x d) beside each frozen target weight; after
training, ``merge`` folds B·A·alpha/r into the weight, so serving costs nothing
extra. Target-module presets name the seed's placements for BERT-style encoders
and for decoder LMs (q_proj, v_proj...: the generator); any list of module-name suffixes (or peft's "all-linear") works too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.components import PeftMethod, option
from harness.errors import ConfigError
from harness.hookspecs import hookimpl

PRESETS = {
    "qv": ["query", "value"],
    "qkvo": ["query", "key", "value", "attention.output.dense"],
    "all-linear": "all-linear",
}
# The same placements in decoder LMs (Llama, SmolLM2, Mistral, Qwen...), whose projections are *_proj.
DECODER_PRESETS = {
    "qv": ["q_proj", "v_proj"],
    "qkvo": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "all-linear": "all-linear",
}


@dataclass
class LoraConfig:
    r: int = option(8, "rank of the update B·A", ge=1)
    alpha: float = option(16.0, "scaling: the update is multiplied by alpha / r", gt=0)
    dropout: float = option(0.0, "dropout on the LoRA branch during training", ge=0, lt=1)
    target_modules: Any = option("qv", "preset (qv, qkvo, all-linear) or a list of module-name suffixes")
    bias: str = option("none", "which biases are trained too", choices=("none", "all", "lora_only"))
    train_head: bool = option(True, "keep a task head (e.g. a classifier) trainable beside LoRA")
    head_modules: list = field(
        default_factory=lambda: ["classifier", "score", "projection"],
        metadata={"help": "module names of task heads trained fully"},
    )


class Lora(PeftMethod):
    Config = LoraConfig

    def targets(self, model: Any = None) -> Any:
        spec = self.config.target_modules
        if isinstance(spec, str):
            if spec not in PRESETS:
                raise ConfigError(
                    f"peft=lora: key 'target_modules': unknown preset {spec!r}; "
                    f"presets: {', '.join(PRESETS)}, or give a list of module names"
                )
            decoder = model is not None and _has_module(model, "q_proj")
            return (DECODER_PRESETS if decoder else PRESETS)[spec]
        if not (isinstance(spec, (list, tuple)) and spec and all(isinstance(name, str) for name in spec)):
            raise ConfigError(
                f"peft=lora: key 'target_modules': {spec!r} is neither a preset "
                f"({', '.join(PRESETS)}) nor a non-empty list of module names"
            )
        return list(spec)

    def apply(self, model: Any) -> Any:
        import peft

        heads = [name for name in self.config.head_modules if _has_module(model, name)] if self.config.train_head else []
        config = peft.LoraConfig(
            r=self.config.r,
            lora_alpha=self.config.alpha,
            lora_dropout=self.config.dropout,
            target_modules=self.targets(model),
            bias=self.config.bias,
            modules_to_save=heads or None,
        )
        try:
            return peft.get_peft_model(model, config)
        except ValueError as exc:
            raise ConfigError(f"peft=lora: key 'target_modules': {exc}") from None

    def merge(self, model: Any) -> Any:
        return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model


def _has_module(model: Any, name: str) -> bool:
    return any(module_name.split(".")[-1] == name for module_name, _ in model.named_modules())


@hookimpl
def harness_add_peft_methods():
    return {"lora": Lora}
