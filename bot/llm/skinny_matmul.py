"""Faster float32 linear layers on CPU for inputs of a few rows: decoding one token, or checking a short
prompt-lookup draft.

`torch.nn.functional.linear(x, W)` computes x @ W.T. On this machine's CPU build (torch 2.13, 2 cores) that
product runs at roughly half the memory bandwidth when x has 1 to 8 rows, and decoding is bound by reading
the weights. The same product written as (W @ x.T).T reads W at about twice the speed for 2 to 8 rows,
and a single row is fastest duplicated into two (`python -m bot.llm.bench` measures it; measured here with
SmolLM2-135M in float32, one forward over a 700-token cache: 1 token 44 -> 28 ms, 2-4 tokens 72 -> 42 ms,
8 tokens 70 -> 63 ms, 12 tokens 78 -> 75-84 ms; same argmax, logits within 6e-5).

`use_skinny_matmul(model)` gives every float32 `nn.Linear` of a CPU model that forward for inputs of at
most `max_rows` rows and leaves larger inputs (prefill, wide batches) to `F.linear`; `stock_linear(model)`
is a context manager that restores torch's own forward for a while (the benchmark's plain-generate
baseline runs on the stock model). This module deliberately does nothing on CUDA, in bfloat16 (where
oneDNN's own kernel is already the faster one) or for int8 quantised layers, and changes no weight.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F

MAX_ROWS = 8  # above this F.linear is as fast or faster (measured widths 8 and 12, see above)


def _skinny_forward(self: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    rows = x.numel() // x.shape[-1] if x.shape[-1] else 0
    if rows == 0 or rows > self.skinny_max_rows:
        return F.linear(x, self.weight, self.bias)
    flat = x.reshape(rows, x.shape[-1])
    if rows == 1:
        flat = torch.cat([flat, flat])
    y = (self.weight @ flat.T).T[:rows]
    if self.bias is not None:
        y = y + self.bias
    return y.reshape(*x.shape[:-1], y.shape[-1])


def _eligible(module: Any) -> bool:
    return (
        type(module) is torch.nn.Linear
        and module.weight.dtype == torch.float32
        and module.weight.device.type == "cpu"
    )


def use_skinny_matmul(model: torch.nn.Module, max_rows: int = MAX_ROWS) -> int:
    """Give the model's float32 CPU linear layers the few-rows forward; returns how many layers got it."""
    n = 0
    for module in model.modules():
        if _eligible(module):
            module.skinny_max_rows = max_rows
            module.forward = types.MethodType(_skinny_forward, module)
            n += 1
    return n


def skinny_layers(model: torch.nn.Module) -> list[torch.nn.Linear]:
    return [m for m in model.modules() if "forward" in m.__dict__ and hasattr(m, "skinny_max_rows")]


@contextmanager
def stock_linear(model: torch.nn.Module) -> Iterator[None]:
    """Torch's own linear forward inside the block, the few-rows forward again after it."""
    patched = skinny_layers(model)
    saved = [m.__dict__.pop("forward") for m in patched]
    try:
        yield
    finally:
        for m, fwd in zip(patched, saved, strict=True):
            m.forward = fwd
