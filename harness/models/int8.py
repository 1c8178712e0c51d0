"""The CPU fast path (``dtype=int8``): the scorer's module run by ONNX Runtime with int8 weights.

Recipe, chosen on figures measured on this project's CPU (docs/benchmarks-rerankers.md):
export the torch module to ONNX (TorchScript exporter), fuse attention, GELU
and layer norms with ONNX Runtime's transformer optimizer (BERT-type models),
then quantize the weights of the matrix products (MatMul, fused Attention) to int8 per
output channel (dynamic
quantization: activations are quantized per batch at run time, so no
calibration data is needed). Per-tensor weights, ORT's default, lose
markedly more (cosine to fp32 0.93 at worst vs 0.99 on MS MARCO passages).

The int8 model is built once per weights and kept in the stage cache under
``int8-model``: keyed by a sha256 of the (merged) fp32 weights, the module's
class and config, its inputs and output, this recipe and the ONNX Runtime
version. A model carrying an unmerged PEFT adapter is merged (on a copy) first,
so a trained adapter is quantized with its backbone. Only inference runs in
int8: a differentiable score (training) is refused.
"""

from __future__ import annotations

import copy
import json
import logging
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional, Sequence

from harness.errors import ConfigError

logger = logging.getLogger(__name__)

STAGE = "int8-model"
FILE = "model.onnx"
OPSET = 17
RECIPE = {
    "export": "torchscript",
    "opset": OPSET,
    "fusion": "bert",
    "weights": "int8 per channel",
    "activations": "dynamic uint8",
    "ops": "onnxruntime's dynamic defaults",
}
TRAINING_REFUSED = (
    "dtype=int8 is an inference-only fast path (ONNX Runtime) and cannot train: train with "
    "dtype=float32 (or auto), then rerank with the saved adapter (adapter=<folder or run id>) "
    "and dtype=int8: the adapter is merged into the backbone, then quantized"
)


def require() -> Any:
    """``onnxruntime``, or a ConfigError saying how to install it."""
    try:
        import onnx  # noqa: F401 - the exporter needs it
        import onnxruntime
    except ImportError:
        raise ConfigError("dtype=int8 needs onnxruntime and onnx (pip install -e '.[fast]'), or use dtype=float32") from None
    return onnxruntime


class Int8Model:
    """An ONNX Runtime session called like the module it came from: ``model(**batch).<output>``."""

    def __init__(self, path: Path, inputs: Sequence[str], output: Optional[str]):
        import torch

        ort = require()
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.log_severity_level = 3  # warnings about unused initializers etc. are not the user's business
        # Idle threads sleep instead of spinning: on a shared 2-core machine (load 9) this made
        # int8 encoding 1.4x faster (8.3 vs 5.9 passages/s, same session otherwise).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs, self.output, self.path = list(inputs), output, path

    def __call__(self, **batch: Any) -> Any:
        import torch

        feed = {name: batch[name].cpu().numpy() for name in self.inputs}
        result = torch.from_numpy(self.session.run(None, feed)[0])
        return result if self.output is None else SimpleNamespace(**{self.output: result})


def quantized(model: Any, batch: dict[str, Any], output: Optional[str], cache: Any) -> Int8Model:
    """The int8 model of ``model`` (torch, fp32), built on a miss from the example ``batch``."""
    from harness.cache import code_version
    from harness.models.backbone import config_digest, weights_digest

    ort = require()
    servable = merged(model)
    inputs = list(batch)
    payload = {
        "weights": weights_digest(servable, "float32"),
        "class": type(servable).__name__,
        "config": config_digest(servable),
        "inputs": inputs,
        "output": output,
        "recipe": RECIPE,
        "onnxruntime": ort.__version__,
        "code": code_version(Int8Model),
    }

    def build(folder: Path) -> None:
        logger.info(
            "building the int8 model of %s (ONNX export, fusion, int8 quantization): once per weights", type(servable).__name__
        )
        export(servable, batch, inputs, output, folder / "fp32.onnx")
        source = fuse(folder / "fp32.onnx", servable, folder / "fused.onnx")
        quantize(source, folder / FILE)
        for scratch in ("fp32.onnx", "fused.onnx"):
            (folder / scratch).unlink(missing_ok=True)
        (folder / "meta.json").write_text(json.dumps({**payload, "inputs": inputs}, indent=1))

    return cache.entry(STAGE, payload, build, lambda folder: Int8Model(folder / FILE, inputs, output))


def merged(model: Any) -> Any:
    """A copy of the plain fp32 module to export, an unmerged PEFT adapter merged into it.

    A copy, always: tracing for the export leaves the module it ran on changed (its fp32 answers
    differed afterwards, measured on a tiny BERT), and the scorer's own module must stay as it was.
    """
    if hasattr(model, "merge_and_unload"):
        return copy.deepcopy(model).merge_and_unload().eval()
    if any(type(m).__module__.startswith("peft") for m in model.modules()):
        raise ConfigError(
            "dtype=int8: the model holds PEFT layers that cannot be merged into its weights; use dtype=float32 for this adapter"
        )
    return copy.deepcopy(model).eval()


def export(model: Any, batch: dict[str, Any], inputs: list[str], output: Optional[str], path: Path) -> None:
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, *tensors: Any) -> Any:
            out = self.inner(**dict(zip(inputs, tensors)))
            return out if output is None else getattr(out, output)

    example = tuple(batch[name][:2].cpu() for name in inputs)
    axes = {name: {0: "batch", 1: "tokens"} for name in inputs}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow on shapes
        torch.onnx.export(
            Wrapped().cpu().float(),
            example,
            str(path),
            input_names=inputs,
            output_names=["out"],
            dynamic_axes={**axes, "out": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )


def fuse(source: Path, model: Any, target: Path) -> Path:
    """ONNX Runtime's transformer fusions for BERT-type encoders (other models are quantized as exported)."""
    config = getattr(model, "config", None) or next((m.config for m in model.modules() if hasattr(m, "config")), None)
    if config is None or getattr(config, "model_type", None) != "bert":
        return source
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(
        str(source), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size, opt_level=1
    )
    fused.save_model_to_file(str(target))
    return target


def quantize(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "consider pre-processing" advice on the root logger, once per build
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        quiet.setLevel(level)


def agreement(fast: dict[str, dict[str, float]], reference: dict[str, dict[str, float]], depth: int = 10) -> dict[str, Any]:
    """How far int8 scores moved the ranking, per query then averaged: the overlap of the top ``depth``
    documents, Kendall's tau over all scored candidates, and the largest absolute score change."""
    from scipy.stats import kendalltau

    from harness.ranking import ranked

    overlaps, taus, changes = [], [], []
    for qid, ref in reference.items():
        ours = fast[qid]
        top = lambda scores: {d for d, _ in ranked(scores)[:depth]}
        overlaps.append(len(top(ours) & top(ref)) / min(depth, len(ref)))
        docs = sorted(ref)
        tau = kendalltau([ours[d] for d in docs], [ref[d] for d in docs]).statistic if len(docs) > 1 else 1.0
        taus.append(1.0 if tau != tau else float(tau))  # NaN: constant scores on both sides
        changes.append(max(abs(ours[d] - ref[d]) for d in docs))
    n = len(reference)
    return {
        "queries": n,
        f"top{depth}_overlap": sum(overlaps) / n,
        "kendall_tau": sum(taus) / n,
        "max_abs_score_change": max(changes),
    }


def sample(qids: Sequence[str], n: int) -> list[str]:
    """``n`` query ids spread evenly over the sorted ids (deterministic)."""
    ordered = sorted(qids)
    if n >= len(ordered):
        return ordered
    return [ordered[i * len(ordered) // n] for i in range(n)]
