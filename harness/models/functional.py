"""The scoring maths, on plain tensors: pooling, similarities, MaxSim."""

from __future__ import annotations

from typing import Any

POOLINGS = ("mean", "cls", "max")
SIMILARITIES = ("cosine", "dot")


def pool(hidden: Any, mask: Any, how: str) -> Any:
    """One vector per text from token states ``[b, L, h]`` and attention mask ``[b, L]``."""
    if how == "cls":
        return hidden[:, 0]
    m = mask.unsqueeze(-1).to(hidden.dtype)
    if how == "mean":
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    if how == "max":
        return hidden.masked_fill(m == 0, float("-inf")).max(1).values
    raise ValueError(f"pooling '{how}' is not one of {', '.join(POOLINGS)}")


def similarity(q: Any, d: Any, how: str) -> Any:
    """Row-wise similarity of paired vectors ``q[i]``, ``d[i]`` (``[n, h]`` each) -> ``[n]``."""
    import torch.nn.functional as F

    if how == "cosine":
        return F.cosine_similarity(q, d, dim=-1, eps=1e-12)
    if how == "dot":
        return (q * d).sum(-1)
    raise ValueError(f"similarity '{how}' is not one of {', '.join(SIMILARITIES)}")


def similarity_matrix(q: Any, d: Any, how: str) -> Any:
    """All-pairs similarity ``[nq, nd]``."""
    import torch.nn.functional as F

    if how == "cosine":
        q, d = F.normalize(q, dim=-1), F.normalize(d, dim=-1)
    elif how != "dot":
        raise ValueError(f"similarity '{how}' is not one of {', '.join(SIMILARITIES)}")
    return q @ d.T


def maxsim(q: Any, q_mask: Any, d: Any, d_mask: Any) -> Any:
    """ColBERT's late interaction, paired: for each query token the best document token, summed.

    ``q`` ``[n, Lq, k]``, ``d`` ``[n, Ld, k]``, masks ``[n, L]`` (1 = real token) -> ``[n]``.
    """
    sims = q @ d.transpose(1, 2)  # [n, Lq, Ld]
    sims = sims.masked_fill(d_mask[:, None, :] == 0, float("-inf"))
    best = sims.max(-1).values  # [n, Lq]
    return (best * q_mask.to(best.dtype)).sum(-1)
