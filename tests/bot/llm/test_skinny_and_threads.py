"""The few-rows matmul (bot/llm/skinny_matmul.py) and the torch thread placement (bot/llm/torch_threads.py),
on small real tensors; the real model's text with and without the matmul is in test_batching_real.py."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch

from bot.llm.skinny_matmul import MAX_ROWS, skinny_layers, stock_linear, use_skinny_matmul
from bot.llm.torch_threads import WorkerCall


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(48, 96), torch.nn.ReLU(), torch.nn.Linear(96, 24, bias=False))


@pytest.mark.parametrize("shape", [(1, 48), (1, 1, 48), (2, 3, 48), (MAX_ROWS, 48), (3, 7, 48), (0, 48)])
def test_the_few_rows_forward_matches_torch_for_every_shape(shape: tuple[int, ...]) -> None:
    model = _model()
    x = torch.randn(*shape)
    with torch.inference_mode():
        expected = model(x)
        assert use_skinny_matmul(model) == 2
        got = model(x)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_only_float32_cpu_layers_get_it_and_stock_linear_restores_them_for_a_while() -> None:
    model = _model()
    model[2].to(torch.bfloat16)
    assert use_skinny_matmul(model) == 1  # the bfloat16 layer keeps torch's kernel
    assert skinny_layers(model) == [model[0]]
    with stock_linear(model):
        assert skinny_layers(model) == [] and "forward" not in model[0].__dict__
    assert skinny_layers(model) == [model[0]]


def test_a_worker_call_returns_the_value_or_raises_the_error() -> None:
    ok = WorkerCall(lambda: 41 + 1)
    ok.run()
    assert ok.result() == 42
    bad = WorkerCall(lambda: 1 / 0)
    bad.run()
    with pytest.raises(ZeroDivisionError):
        bad.result()


def test_confine_leaves_several_threads_to_the_worker_alone() -> None:
    """In a fresh process (the setting is process-wide): after confine(), the calling thread and threads
    started later run torch on one thread, while a worker that took its threads first keeps them, even
    though torch sets a thread's count lazily from the shared default."""
    script = textwrap.dedent(
        """
        import threading, torch
        from bot.llm.torch_threads import confine, own_threads
        n = confine(2)
        seen = {}
        ready = threading.Event()
        go = threading.Event()
        def worker():
            own_threads(n)
            ready.set()
            go.wait()
            torch.ones(4) @ torch.ones(4)  # a first torch op on this thread after the others confined
            seen["worker"] = torch.get_num_threads()
        t = threading.Thread(target=worker)
        t.start()
        ready.wait()
        confine()
        go.set()
        t.join()
        late = threading.Thread(target=lambda: seen.__setitem__("late", torch.get_num_threads()))
        late.start()
        late.join()
        print(n, torch.get_num_threads(), seen["worker"], seen["late"])
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "1", "2", "1"]
