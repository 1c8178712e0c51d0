"""How the contract checks call each kind of component, split its batches and break its input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from harness.testing import toy


@dataclass(frozen=True)
class KindAdapter:
    """One kind's verb, its toy input, and how to split, merge, empty and corrupt that input."""

    call: Callable[[Any, tuple], Any]
    inputs: Callable[[], tuple]
    empty: Callable[[tuple], tuple]
    malformed: Callable[[tuple], tuple]
    split: Optional[Callable[[tuple], list[tuple]]] = None  # None: the verb takes no batch
    merge: Optional[Callable[[list], Any]] = None


def _merge_dicts(parts: list[dict]) -> dict:
    merged: dict = {}
    for part in parts:
        merged.update(part)
    return merged


def _merge_lists(parts: list[list]) -> list:
    return [item for part in parts for item in part]


def _retriever_inputs() -> tuple:
    dataset = toy.ToyDataset()
    return dataset, list(dataset.queries_iter())


def _reranker_inputs() -> tuple:
    dataset = toy.ToyDataset()
    return dataset, list(dataset.queries_iter()), toy.first_stage_run()


def _generator_inputs() -> tuple:
    questions = list(toy.QUERIES.values())
    contexts = [[toy.DOCS[d] for d in sorted(toy.QRELS[q])] for q in toy.QUERIES]
    return questions, contexts


def _noise_inputs() -> tuple:
    dataset = toy.ToyDataset()
    query = next(dataset.queries_iter())
    passages = [dataset.docs_store().get(d) for d in toy.QRELS[query.query_id]]
    return query, passages, list(dataset.docs_iter())


def _tiny_model() -> Any:
    import torch

    generator = torch.Generator().manual_seed(0)  # the same base weights for every call
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return model


def _bad_scores(run: dict) -> dict:
    qid = sorted(run)[0]
    return {**run, qid: {doc: "high" for doc in run[qid]}}


ADAPTERS: dict[str, KindAdapter] = {
    "retriever": KindAdapter(
        call=lambda c, x: c.retrieve(*x),
        inputs=_retriever_inputs,
        empty=lambda x: (x[0], []),
        malformed=lambda x: (x[0], ["not a query record"]),
        split=lambda x: [(x[0], [q]) for q in x[1]],
        merge=_merge_dicts,
    ),
    "reranker": KindAdapter(
        call=lambda c, x: c.rerank(*x),
        inputs=_reranker_inputs,
        empty=lambda x: (x[0], [], {}),
        malformed=lambda x: (x[0], x[1], _bad_scores(x[2])),
        split=lambda x: [(x[0], [q], {q.query_id: x[2][q.query_id]}) for q in x[1]],
        merge=_merge_dicts,
    ),
    "generator": KindAdapter(
        call=lambda c, x: c.generate(*x),
        inputs=_generator_inputs,
        empty=lambda x: ([], []),
        malformed=lambda x: (x[0], x[1][:-1]),
        split=lambda x: [([q], [ctx]) for q, ctx in zip(*x)],
        merge=_merge_lists,
    ),
    "metric": KindAdapter(
        call=lambda c, x: c.per_query(*x),
        inputs=lambda: (toy.QRELS, toy.first_stage_run()),
        empty=lambda x: ({}, {}),
        malformed=lambda x: (x[0], _bad_scores(x[1])),
        split=lambda x: [({q: x[0][q]}, {q: x[1][q]}) for q in sorted(x[0])],
        merge=_merge_dicts,
    ),
    "noise": KindAdapter(
        call=lambda c, x: c.inject(*x),
        inputs=_noise_inputs,
        empty=lambda x: (x[0], [], []),
        malformed=lambda x: (x[0], None, x[2]),
    ),
    "peft": KindAdapter(
        call=lambda c, x: c.apply(*x),
        inputs=lambda: (_tiny_model(),),
        empty=lambda x: (_empty_module(),),
        malformed=lambda x: (None,),
    ),
}


def _empty_module() -> Any:
    import torch

    return torch.nn.Module()
