"""A deterministic backend for unit tests (like llm's MockModel): replies from a script or a function
of the request, streamed word by word, honouring stop strings and max_new_tokens (counted in words)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from .base import GenerationRequest, GenerationStats, Message, StopScanner


class FakeBackend:
    name = "fake"

    def __init__(
        self,
        reply: str | Callable[[GenerationRequest], str] = "I don't have that information.",
        delay_s: float = 0.0,
        window: int = 8192,
    ) -> None:
        self.window = window
        self.reply = reply
        self.delay_s = delay_s
        self.requests: list[GenerationRequest] = []

    def warm_up(self) -> FakeBackend:
        return self

    @property
    def context_window(self) -> int:
        return self.window

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m["content"].split()) + 4 for m in messages)

    def stream(self, request: GenerationRequest, stats: GenerationStats | None = None) -> Iterator[str]:
        self.requests.append(request)
        text = self.reply(request) if callable(self.reply) else self.reply
        words = text.split(" ")
        stats = stats or GenerationStats()
        stats.prompt_tokens = self.count_tokens(request.messages)
        stats.finish_reason = "length" if len(words) > request.max_new_tokens else "stop"
        scanner = StopScanner(request.stop)
        start = time.perf_counter()
        for n, word in enumerate(words[: request.max_new_tokens]):
            if self.delay_s:
                time.sleep(self.delay_s)
            out = scanner.feed(word if n == 0 else " " + word)
            stats.completion_tokens = n + 1
            if out:
                if not stats.time_to_first_token_s:
                    stats.time_to_first_token_s = time.perf_counter() - start
                yield out
            if scanner.stopped:
                stats.finish_reason = "stop"
                break
        tail = scanner.flush()
        if tail:
            yield tail
        stats.total_s = time.perf_counter() - start
