"""harness evaluation equals trec_eval (through pytrec_eval) to 1e-4."""

import random

import pytest
import pytrec_eval

from harness.evaluation import evaluate
from harness.data.trec_io import ranked, read_run, write_run


def trec_eval(qrels, run, level):
    measures = {"ndcg_cut.10", "recall.100", "map"}
    main = pytrec_eval.RelevanceEvaluator(qrels, measures, relevance_level=level).evaluate(run)
    top10 = {q: dict(ranked(docs)[:10]) for q, docs in run.items()}
    rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}, relevance_level=level).evaluate(top10)
    return {
        "ndcg@10": {q: v["ndcg_cut_10"] for q, v in main.items()},
        "recall@100": {q: v["recall_100"] for q, v in main.items()},
        "map": {q: v["map"] for q, v in main.items()},
        "mrr@10": {q: v["recip_rank"] for q, v in rr.items()},
    }


def random_case(seed):
    rng = random.Random(seed)
    qrels, run = {}, {}
    for q in range(20):
        docs = [f"d{i}" for i in range(150)]
        qrels[f"q{q}"] = {d: rng.choice([0, 0, 1, 2, 3]) for d in rng.sample(docs, 30)}
        run[f"q{q}"] = {d: round(rng.random() * 10, 4) for d in rng.sample(docs, 120)}
    return qrels, run


@pytest.mark.parametrize("seed,level", [(0, 2), (1, 2), (2, 1)])
def test_per_query_values_match_trec_eval(seed, level, tmp_path):
    qrels, run = random_case(seed)
    write_run(run, tmp_path / "run.trec")  # through a file, as a user would
    run = read_run(tmp_path / "run.trec")
    ours = evaluate(qrels, run, ["ndcg@10", "mrr@10", "recall@100", "map"], binary_relevance_level=level)
    theirs = trec_eval(qrels, run, level)
    for metric, values in theirs.items():
        for qid, value in values.items():
            assert ours.per_query[metric][qid] == pytest.approx(value, abs=1e-4), (metric, qid)
