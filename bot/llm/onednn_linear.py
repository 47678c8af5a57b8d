"""Linear layers through oneDNN with prepacked weights, for serving on CPU.

torch's CPU build computes `F.linear` in float32 with Intel MKL's sgemm. On this machine (AMD EPYC with
AVX-512, torch 2.13, 2 cores) that kernel reads the weights at well under the memory bandwidth: all of
SmolLM2-135M's linear layers take 33 ms for one row, 66 ms for 16 and 460 ms for a 300-token prefill. The
same products through oneDNN (`torch.ops.mkldnn._linear_pointwise`, the kernel torch's own compiler uses
for frozen CPU models) with the weights reordered once into oneDNN's layout take 16, 22 and 197 ms (logits
within 1e-4, same greedy tokens). In the model, one decode step: 1 row over a 700-token cache 41 -> 24 ms,
16 rows over 300 tokens 88 -> 48 ms, a 700-token prefill 1.0 -> 0.53 s. bfloat16 layers already go
through oneDNN, without the packing: 16 rows 101 -> 92 ms. `python -m bot.llm.bench` reports the
effect on its own.

`use_onednn_linear(model)` packs every float32 and bfloat16 `nn.Linear` of a CPU model and gives it that
forward; `stock_linear(model)` is a context manager that restores torch's own forward for a while (the
benchmark's plain-generate baseline runs on the stock model). The packed copy costs the layers' size again
in memory (about 0.5 GB for SmolLM2-135M in float32) and is a snapshot: pack after merging an adapter, never
before changing a weight. Training is left alone: a forward that needs gradients takes `F.linear`. This
module deliberately does nothing on CUDA, for int8 layers or on a torch build without oneDNN.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F

DTYPES = (torch.float32, torch.bfloat16)


def available() -> bool:
    """Whether this torch build has oneDNN and the two operators this module calls."""
    ops = getattr(torch.ops, "mkldnn", None)
    try:
        return bool(
            torch.backends.mkldnn.is_available()
            and hasattr(ops, "_reorder_linear_weight")
            and hasattr(ops, "_linear_pointwise")
        )
    except (AttributeError, RuntimeError):
        return False


def _onednn_forward(self: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    needs_grad = torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad)
    if (
        needs_grad or x.dtype != self.weight.dtype or x.device.type != "cpu"
    ):  # the packed copy has no gradient
        return F.linear(x, self.weight, self.bias)
    return torch.ops.mkldnn._linear_pointwise(x, self.onednn_weight, self.bias, "none", [], "")


def _eligible(module: Any) -> bool:
    return (
        type(module) is torch.nn.Linear
        and module.weight.dtype in DTYPES
        and module.weight.device.type == "cpu"
    )


def use_onednn_linear(model: torch.nn.Module) -> int:
    """Pack the model's float32 and bfloat16 CPU linear layers for oneDNN and give them its forward; returns
    how many layers got it (0 where oneDNN is missing)."""
    if not available():
        return 0
    n = 0
    with torch.no_grad():
        for module in model.modules():
            if _eligible(module):
                module.onednn_weight = torch.ops.mkldnn._reorder_linear_weight(module.weight.detach())
                module.forward = types.MethodType(_onednn_forward, module)
                n += 1
    return n


def onednn_layers(model: torch.nn.Module) -> list[torch.nn.Linear]:
    """The layers that currently run the oneDNN forward."""
    return [m for m in model.modules() if "forward" in m.__dict__ and hasattr(m, "onednn_weight")]


@contextmanager
def stock_linear(model: torch.nn.Module) -> Iterator[None]:
    """Torch's own linear forward inside the block, the oneDNN forward again after it."""
    patched = onednn_layers(model)
    saved = [m.__dict__.pop("forward") for m in patched]
    try:
        yield
    finally:
        for m, fwd in zip(patched, saved, strict=True):
            m.forward = fwd
