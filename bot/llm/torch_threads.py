"""Where torch may use several CPU cores when the local model serves: the batching engine's worker thread
only. Every other thread of the process (the one that loads the model, request threads that embed a query)
runs torch on one thread.

Why: torch's CPU build parallelises with GNU OpenMP, which gives every thread that runs a parallel region its
own team of worker threads. Once the process holds more OpenMP threads than it has cores (two teams of two on
this 2-core machine), libgomp stops spin-waiting between parallel regions ("throttled" spinning) and every
region pays to wake its workers: a forward pass runs hundreds of them. Measured here (SmolLM2-135M float32,
one token over a 700-token cache): 25-28 ms in a process whose only team is the decoding thread, 47-57 ms
once a second thread has run torch on two cores; a 2-row matmul over the model's weights 8 ms vs 16-19 ms.

`confine(n)` is what the local backend calls before anything in the process runs torch (the assistant's
factory, the benchmark) and again when it loads the model: the calling thread, and every thread started
afterwards, gets one torch thread. `own_threads(n)` is what the engine's worker calls when
it starts: it alone gets `n`. `WorkerCall` runs a function on the worker between batches (the benchmark's
plain-generate baseline runs there, under the same conditions as the engine). This module does not pin
threads to cores and does nothing on CUDA.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import torch

_engine_threads = 0  # what the engine's worker takes: set by the first confine()


def confine(n: int = 0) -> int:
    """One torch thread for the calling thread and for threads started from now on; returns the threads the
    engine's worker should take: `n`, or when 0 torch's setting before the first confine(). Call it before
    the process first runs torch on several threads: a thread keeps the team it has started (measured: a
    2-row matmul over the model's weights 8-10 ms on the worker when the main thread never held a team,
    18-20 ms when it had run one matmul on two threads before confining)."""
    global _engine_threads
    if n:
        _engine_threads = n
    elif not _engine_threads:
        _engine_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    return _engine_threads


def own_threads(n: int) -> None:
    """`n` torch threads for the calling thread (the engine's worker). torch also makes `n` the default of
    threads started later, so whoever started the worker calls `confine` again once this has run."""
    torch.get_num_threads()  # torch sets a thread's count once, lazily, from the shared default: do it now
    torch.set_num_threads(n)


class WorkerCall:
    """A function the engine's worker runs between batches; `result()` waits for it and returns its value
    or raises its exception."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self._out: queue.Queue = queue.Queue(maxsize=1)

    def run(self) -> None:
        try:
            self._out.put((True, self.fn()))
        except BaseException as exc:  # handed to the caller
            self._out.put((False, exc))

    def result(self) -> Any:
        ok, value = self._out.get()
        if not ok:
            raise value
        return value
