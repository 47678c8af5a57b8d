"""The KV cache across transformers versions: the forward argument was renamed `past_key_values` -> `cache`
in 5.24 (the old name warns there and is removed in 5.40), and model outputs carry it under the matching
name. The batching engine (bot/llm/batching.py) passes and reads the cache through these two functions; they
do not build or change caches.
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
