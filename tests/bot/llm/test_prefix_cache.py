"""The prefix store and its rules, without a model: least-recently-used keeping, which prompts share a
prefix, and a batch cache that never writes into the stored tensors."""

from __future__ import annotations

import torch

from bot.llm.prefix_cache import PrefixCache, batch_cache, shared_prefix


def _kv(value: float, layers: int = 2) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(torch.full((1, 3, 4, 8), value), torch.full((1, 3, 4, 8), -value)) for _ in range(layers)]


def test_a_prefix_is_computed_once_then_reused() -> None:
    store, calls = PrefixCache(capacity=2), []

    def compute(ids: tuple[int, ...]):
        calls.append(ids)
        return _kv(float(len(ids)))

    first = store.get((1, 2, 3), compute)
    assert store.get((1, 2, 3), compute) is first
    assert calls == [(1, 2, 3)] and (store.hits, store.misses) == (1, 1)


def test_the_least_recently_used_prefix_is_dropped_beyond_capacity() -> None:
    store = PrefixCache(capacity=2)
    for ids in [(1,), (2,), (1,), (3,)]:  # (1,) was used after (2,), so (2,) goes
        store.get(ids, lambda i: _kv(1.0))
    assert list(store.entries) == [(1,), (3,)]
    assert store.misses == 3 and store.hits == 1


def test_prompts_share_a_prefix_only_when_all_declare_and_hold_it() -> None:
    a, b = [5, 6, 7, 8], [5, 6, 7, 9, 10]
    assert shared_prefix([a, b], [3, 3]) == 3
    assert shared_prefix([a], [3]) == 3
    assert shared_prefix([a, b], [3, 0]) == 0  # one request declares none
    assert shared_prefix([a, b], [3, 2]) == 0  # different lengths
    assert shared_prefix([a, b], [4, 4]) == 0  # the fourth tokens differ
    assert shared_prefix([a], [4]) == 0  # nothing would be left for the model to read
    assert shared_prefix([], []) == 0


def test_a_batch_cache_has_one_row_per_request_and_leaves_the_store_untouched() -> None:
    kv = _kv(2.0)
    cache = batch_cache(kv, rows=3)
    assert len(cache.layers) == 2 and cache.get_seq_length() == 4
    assert tuple(cache.layers[0].keys.shape) == (3, 3, 4, 8)
    cache.layers[0].keys[1].fill_(0.0)  # a batch writing its own copy
    cache.layers[1].values.zero_()
    assert torch.all(kv[0][0] == 2.0) and torch.all(kv[1][1] == -2.0)
