"""The relevance convention a run is evaluated under, in words (printed with the metrics)."""

from __future__ import annotations


def convention(binary_relevance_level: int, dataset_id: str = "") -> str:
    """One line: which labels binary measures count as relevant, what nDCG and negative labels do.

    Negative labels (e.g. -2 for spam) get gain 0 in nDCG and are never relevant:
    ranx computes them so, as trec_eval does (checked in tests/test_dataset_files.py).
    """
    level = binary_relevance_level
    known = ", the TREC DL convention" if level == 2 and "trec-dl" in dataset_id else ""
    return (
        f"relevance: label >= {level} counts as relevant for binary measures (MRR, MAP, recall, ...; "
        f"dataset.binary_relevance_level={level}{known}); nDCG uses the graded labels; "
        "negative labels count as judged non-relevant (gain 0)"
    )
