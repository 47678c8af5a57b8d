"""The KV cache across transformers versions: the forward argument was renamed `past_key_values` -> `cache`
in 5.24 (the old name warns there and is removed in 5.40), and model outputs carry it under the matching
name. The batching engine (bot/llm/batching.py) passes and reads the cache through the first two functions,
and joins two running groups of rows into one batch with `merge_groups`; nothing here builds a cache.
"""

from __future__ import annotations

from typing import Any


def cache_argument(model: Any) -> str:
    """The name under which this model's forward takes the KV cache: `cache` from transformers 5.24 on,
    `past_key_values` before (5.24 accepts the old name with a warning; 5.40 drops it)."""
    import inspect

    params = inspect.signature(model.forward).parameters
    for name in ("cache", "past_key_values"):
        if name in params:
            return name
    import transformers  # a wrapper's forward(*args, **kwargs): go by the library's version

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return "cache" if (major, minor) >= (5, 24) else "past_key_values"


def returned_cache(out: Any) -> Any:
    """The KV cache a forward pass returned, under its transformers >= 5.24 name or the older one."""
    return out.cache if "cache" in getattr(out, "__dataclass_fields__", ()) else out.past_key_values


def merge_groups(a: tuple, b: tuple) -> tuple:
    """Two running groups of the batching engine, each (cache, mask, positions, next tokens), as one batch:
    caches and masks left-padded to the same length, then stacked."""
    import torch
    import torch.nn.functional as F

    (c1, m1, p1, n1), (c2, m2, p2, n2) = a, b
    length = max(m1.shape[1], m2.shape[1])

    def pad(t, n: int):  # (batch, heads, seq, dim): add n masked slots on the left of seq
        return F.pad(t, (0, 0, n, 0)) if n else t

    d1, d2 = length - m1.shape[1], length - m2.shape[1]
    for l1, l2 in zip(c1.layers, c2.layers, strict=True):
        l1.keys = torch.cat([pad(l1.keys, d1), pad(l2.keys, d2)])
        l1.values = torch.cat([pad(l1.values, d1), pad(l2.values, d2)])
    mask = torch.cat([F.pad(m1, (d1, 0)), F.pad(m2, (d2, 0))])
    return c1, mask, torch.cat([p1, p2]), torch.cat([n1, n2])
