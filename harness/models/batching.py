"""Length-sorted batches, padded only to each batch's longest member.

Sorting by length puts texts of similar size together, so little compute goes
to padding; results are scattered back to the input order, so the output does
not depend on how the inputs were batched (up to fp rounding).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence


def length_order(lengths: Sequence[int]) -> list[int]:
    """Indices sorted longest first (stable, so equal lengths keep their input order)."""
    return sorted(range(len(lengths)), key=lambda i: -lengths[i])


def batches(order: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, len(order), batch_size):
        yield list(order[start : start + batch_size])


def progress(total: int, desc: str, show: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="text", disable=not show, leave=False)


def sorted_map(
    items: Sequence[Any],
    lengths: Sequence[int],
    batch_size: int,
    fn: Callable[[list[Any]], Sequence[Any]],
    desc: str = "",
    show: bool = False,
) -> list[Any]:
    """Apply ``fn`` to length-sorted batches of ``items``; results come back in input order."""
    out: list[Any] = [None] * len(items)
    with progress(len(items), desc, show) as bar:
        for idx in batches(length_order(lengths), batch_size):
            for i, result in zip(idx, fn([items[i] for i in idx])):
                out[i] = result
            bar.update(len(idx))
    return out


def tokenize(
    tokenizer: Any, texts: Sequence[str], max_length: int, device: Any, pairs: Sequence[str] | None = None
) -> dict[str, Any]:
    """One batch on ``device``, padded to its longest text (pairs: query/passage for cross-encoders)."""
    args = (list(texts), list(pairs)) if pairs is not None else (list(texts),)
    try:
        enc = tokenizer(
            *args,
            padding="longest",
            truncation="only_second" if pairs is not None else True,
            max_length=max_length,
            return_tensors="pt",
        )
    except Exception:  # noqa: BLE001 - tokenizers raises a bare Exception when a query alone is too long
        if pairs is None:
            raise
        # Pairs whose query leaves no room for the passage: truncate both (query included), not fail.
        enc = tokenizer(*args, padding="longest", truncation="longest_first", max_length=max_length, return_tensors="pt")
    return {k: v.to(device) for k, v in enc.items()}
