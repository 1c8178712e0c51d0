"""``peft=adapter``: bottleneck adapters (Houlsby et al. 2019; Pfeiffer placement by default).

A small down-project / non-linearity / up-project block added to the output of
chosen sublayers, the backbone frozen. Written here rather than through
AdapterHub's ``adapters``: its current release (1.3.0) pins transformers
~=4.57 while the harness runs on transformers 5, and peft has no bottleneck
adapter. The up-projection starts at zero, so an untrained adapter leaves the
model's outputs unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from harness.components import PeftMethod, option
from harness.errors import ConfigError
from harness.hookspecs import hookimpl

ACTIVATIONS = ("relu", "gelu", "tanh")
# Sublayer output projections of BERT-style encoders, by placement.
PLACEMENTS = {
    "pfeiffer": ["output.dense"],  # after the feed-forward block only
    "houlsby": ["output.dense", "attention.output.dense"],  # after attention and feed-forward
}


@dataclass
class AdapterConfig:
    reduction_factor: int = option(16, "bottleneck size = hidden size / reduction_factor", ge=1)
    placement: str = option("pfeiffer", "pfeiffer: after each FFN; houlsby: after attention and FFN", choices=tuple(PLACEMENTS))
    target_modules: Optional[list] = option(None, "module-name suffixes to wrap instead of the placement's")
    non_linearity: str = option("relu", "activation of the bottleneck", choices=ACTIVATIONS)
    train_head: bool = option(True, "keep a task head (classifier/score/projection) trainable")


def _bottleneck(hidden: int, reduction: int, non_linearity: str):
    import torch

    activations = {"relu": torch.nn.ReLU, "gelu": torch.nn.GELU, "tanh": torch.nn.Tanh}
    size = max(1, hidden // reduction)
    down, up = torch.nn.Linear(hidden, size), torch.nn.Linear(size, hidden)
    torch.nn.init.zeros_(up.weight)
    torch.nn.init.zeros_(up.bias)
    return torch.nn.Sequential(down, activations[non_linearity](), up)


def wrap_linear(linear: Any, reduction: int, non_linearity: str) -> Any:
    import torch

    class AdapterLinear(torch.nn.Module):
        """The wrapped projection, then a residual bottleneck on its output."""

        def __init__(self):
            super().__init__()
            self.base = linear
            self.adapter = _bottleneck(linear.out_features, reduction, non_linearity)

        def forward(self, x):
            y = self.base(x)
            return y + self.adapter(y)

    return AdapterLinear()


class BottleneckAdapter(PeftMethod):
    Config = AdapterConfig

    def targets(self) -> list[str]:
        if self.config.target_modules:
            return list(self.config.target_modules)
        return PLACEMENTS[self.config.placement]

    def _matches(self, name: str) -> bool:
        targets = self.targets()
        if self.config.placement == "pfeiffer" and not self.config.target_modules:
            return name.endswith(".output.dense") and ".attention." not in name
        return any(name == t or name.endswith(f".{t}") for t in targets)

    def apply(self, model: Any) -> Any:
        import torch

        names = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and self._matches(n)]
        if not names:
            raise ConfigError(f"peft=adapter: no linear module matches {self.targets()} in {type(model).__name__}")
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        for name in names:
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, wrap_linear(getattr(parent, child), self.config.reduction_factor, self.config.non_linearity))
        if self.config.train_head:
            for name, module in model.named_modules():
                if name.split(".")[-1] in ("classifier", "score", "projection"):
                    module.requires_grad_(True)
        return model


@hookimpl
def harness_add_peft_methods():
    return {"adapter": BottleneckAdapter}
