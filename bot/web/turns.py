"""Runs the assistant's blocking turns for the async web layer: each turn in a bounded thread pool, its
events handed to the event loop through a queue, admission refused (429) when too many wait, a time limit
per turn, and cancellation when the client goes away (the worker stops at the next event and closes the
turn's generator, so a disconnected stream costs at most one more sentence of work in the assistant; the
model's own batch may still finish that reply quietly). Counters feed /healthz. It does not render events
(api.py and openai_api.py do) and holds no per-session state."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

log = logging.getLogger("bot.web.turns")
_END = object()
KEEPALIVE = {"type": "keepalive"}


@dataclass
class TurnCounters:
    admitted: int = 0
    started: int = 0
    finished: int = 0
    cancelled: int = 0
    failed: int = 0
    refused_busy: int = 0
    timed_out: int = 0


class TurnRunner:
    def __init__(
        self,
        assistant: Any,
        max_concurrent: int,
        max_queued: int,
        timeout_s: float,
        keepalive_s: float = 15.0,
    ) -> None:
        self.assistant = assistant
        self.max_concurrent = max_concurrent
        self.capacity = max_concurrent + max_queued
        self.timeout_s = timeout_s
        self.keepalive_s = keepalive_s
        self.executor = ThreadPoolExecutor(max_concurrent, thread_name_prefix="turn")
        self.pending = 0  # admitted and not yet done (running or queued)
        self.active = 0  # running in a worker thread now
        self.lock = threading.Lock()
        self.counters = TurnCounters()

    def start(self, session_id: str | None, text: str, channel: str = "api") -> Turn:
        """Admit a turn (or raise 429: server busy) and start it in a worker thread now. A turn whose
        events are never read still runs to the end and frees its place."""
        with self.lock:
            if self.pending >= self.capacity:
                self.counters.refused_busy += 1
                raise ApiError(
                    429, "the assistant is busy; retry shortly", "server_busy", headers={"Retry-After": "2"}
                )
            self.pending += 1
            self.counters.admitted += 1
        loop = asyncio.get_running_loop()
        turn = Turn(loop, self.timeout_s, self.keepalive_s, self)
        try:
            loop.run_in_executor(self.executor, self._work, turn, session_id, text, channel)
        except RuntimeError:  # the pool is shut down
            with self.lock:
                self.pending -= 1
            raise ApiError(503, "the server is shutting down", "shutting_down") from None
        return turn

    def _work(self, turn: Turn, session_id: str | None, text: str, channel: str) -> None:
        if turn.cancelled.is_set():
            with self.lock:
                self.counters.cancelled += 1
                self.pending -= 1
            turn.push(_END)
            return
        with self.lock:
            self.active += 1
            self.counters.started += 1
        gen = self.assistant.respond(session_id, text, channel=channel)
        completed = False
        try:
            for event in gen:
                if turn.cancelled.is_set():
                    break
                turn.push(event)
            else:
                completed = True
        except Exception as exc:
            log.exception("turn failed")
            with self.lock:
                self.counters.failed += 1
            turn.push(exc)
        finally:
            gen.close()
            with self.lock:
                self.active -= 1
                self.pending -= 1
                if completed:
                    self.counters.finished += 1
                elif turn.cancelled.is_set():
                    self.counters.cancelled += 1
            turn.push(_END)

    def stats(self) -> dict[str, int]:
        with self.lock:
            return {"pending": self.pending, "active": self.active, **self.counters.__dict__}

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class Turn:
    """One running turn: its events as an async iterator; `cancel()` (or leaving the iterator) stops it."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout_s: float, keepalive_s: float, runner: TurnRunner
    ):
        self.loop = loop
        self.queue: asyncio.Queue = asyncio.Queue()
        self.cancelled = threading.Event()
        self.timeout_s, self.keepalive_s, self.runner = timeout_s, keepalive_s, runner

    def push(self, item: Any) -> None:  # called from the worker thread
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the loop is gone (server shutting down)
            self.cancelled.set()

    def cancel(self) -> None:
        self.cancelled.set()

    async def events(self, *, keepalive: bool = False) -> AsyncIterator[dict]:
        deadline = time.monotonic() + self.timeout_s
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    with self.runner.lock:
                        self.runner.counters.timed_out += 1
                    raise TimeoutError(f"the turn took longer than {self.timeout_s:g} s")
                try:
                    item = await asyncio.wait_for(self.queue.get(), timeout=min(left, self.keepalive_s))
                except TimeoutError:
                    if keepalive:
                        yield KEEPALIVE
                    continue
                if item is _END:
                    return
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            self.cancel()
