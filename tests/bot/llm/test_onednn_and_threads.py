"""The oneDNN linear layers (bot/llm/onednn_linear.py) and the torch thread placement
(bot/llm/torch_threads.py), on small real tensors; the real model's text with and without oneDNN is in
test_batching_real.py."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch

from bot.llm.onednn_linear import available, onednn_layers, stock_linear, use_onednn_linear
from bot.llm.torch_threads import WorkerCall

needs_onednn = pytest.mark.skipif(not available(), reason="this torch build has no oneDNN")


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(48, 96), torch.nn.ReLU(), torch.nn.Linear(96, 24, bias=False))


def test_the_cpu_build_ci_installs_has_onednn() -> None:
    """The pinned CPU wheel ships oneDNN; if a build loses it the layers silently keep torch's kernel,
    which this test turns into a failure rather than a slower assistant."""
    assert available()


@needs_onednn
@pytest.mark.parametrize("shape", [(1, 48), (1, 1, 48), (2, 3, 48), (8, 48), (16, 48), (3, 300, 48), (0, 48)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_onednn_forward_matches_torch_for_every_shape(shape: tuple[int, ...], dtype: torch.dtype) -> None:
    model = _model().to(dtype)
    x = torch.randn(*shape).to(dtype)
    with torch.inference_mode():
        expected = model(x)
        assert use_onednn_linear(model) == 2
        got = model(x)
    assert got.shape == expected.shape and got.dtype == dtype
    tol = 1e-5 if dtype == torch.float32 else 2e-2
    torch.testing.assert_close(got, expected, rtol=tol, atol=tol)


@needs_onednn
def test_only_float32_and_bfloat16_layers_get_it_and_stock_linear_restores_them_for_a_while() -> None:
    model = _model()
    model[2].to(torch.float64)
    assert use_onednn_linear(model) == 1  # the float64 layer keeps torch's kernel
    assert onednn_layers(model) == [model[0]]
    with stock_linear(model):
        assert onednn_layers(model) == [] and "forward" not in model[0].__dict__
    assert onednn_layers(model) == [model[0]]


@needs_onednn
def test_training_takes_torch_linear_so_gradients_still_flow() -> None:
    """The packed copy has no gradient: a forward that needs one takes F.linear and the weights learn."""
    model = _model()
    use_onednn_linear(model)
    loss = model(torch.randn(4, 48)).sum()
    loss.backward()
    assert model[0].weight.grad is not None and float(model[0].weight.grad.abs().sum()) > 0


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
