"""Keys and values of a prompt prefix that many requests share (the system prompt: every turn of every
conversation starts with it), computed once and reused by the batching engine's prefill, which then runs
the model over the rest of each prompt only.

A small least-recently-used store keyed by the prefix's token ids: a changed system prompt is a new key, so
a stale entry is never read. The stored tensors are never modified: a batch gets its own cache built from
them (copied by the first concatenation). This module holds no model and picks no prefix; the backend
says how long the shared prefix is (bot/llm/local.py) and the engine decides when to use it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

# (per layer: keys, values), each (1, kv heads, prefix length, head dim)
PrefixKV = list[tuple[Any, Any]]


class PrefixCache:
    def __init__(self, capacity: int = 4) -> None:
        self.capacity = max(1, capacity)
        self.entries: OrderedDict[tuple[int, ...], PrefixKV] = OrderedDict()
        self.hits = 0  # prefills that reused a stored prefix
        self.misses = 0  # prefixes computed (then stored)

    def get(self, ids: tuple[int, ...], compute: Callable[[tuple[int, ...]], PrefixKV]) -> PrefixKV:
        """The stored keys and values of `ids`, computed with `compute(ids)` and stored on first use."""
        kv = self.entries.get(ids)
        if kv is not None:
            self.entries.move_to_end(ids)
            self.hits += 1
            return kv
        kv = compute(ids)
        self.misses += 1
        self.entries[ids] = kv
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)
        return kv


def shared_prefix(prompts: list[list[int]], lengths: list[int]) -> int:
    """The prefix length every prompt declares and shares token for token, or 0: each declared length
    must be the same, positive, and shorter than its prompt (the rest still goes through the model)."""
    if not prompts or lengths[0] <= 0 or any(n != lengths[0] for n in lengths):
        return 0
    n = lengths[0]
    head = prompts[0][:n]
    if any(len(p) <= n or p[:n] != head for p in prompts):
        return 0
    return n


def batch_cache(kv: PrefixKV, rows: int) -> Any:
    """A fresh DynamicCache holding the prefix's keys and values for `rows` rows."""
    from transformers import DynamicCache

    cache = DynamicCache()
    for layer, (keys, values) in enumerate(kv):
        cache.update(keys.expand(rows, -1, -1, -1), values.expand(rows, -1, -1, -1), layer)
    return cache
