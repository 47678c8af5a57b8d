"""Generation through any OpenAI-compatible server (vLLM, TGI, llama.cpp's server, a hosted endpoint):
`POST {base_url}/chat/completions` with `stream: true`, Server-Sent Events parsed line by line.

Connection errors, timeouts before the first byte, 429 and 5xx are retried with exponential backoff
(`retries` times); once text has streamed, a failure is raised, never retried (the customer would see it
twice). A server that answers with something that is not the OpenAI format raises `BackendError`, and a
read that stalls longer than `timeout_s` raises instead of hanging.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence

import httpx

from .base import BackendError, BackendUnavailable, GenerationRequest, GenerationStats, Message, StopScanner
from .config import LLMConfig

RETRY_STATUS = {429, 500, 502, 503, 504}


class OpenAICompatibleBackend:
    name = "openai"

    def __init__(self, cfg: LLMConfig, client: httpx.Client | None = None) -> None:
        self.cfg = cfg
        headers = {"Authorization": f"Bearer {cfg.api_key}"} if cfg.api_key else {}
        self.client = client or httpx.Client(
            base_url=cfg.base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(cfg.timeout_s, connect=min(5.0, cfg.timeout_s)),
        )

    def warm_up(self) -> OpenAICompatibleBackend:
        return self

    @property
    def context_window(self) -> int:
        return self.cfg.context_window

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m["content"]) // 4 + 4 for m in messages)  # estimate: the server owns the tokenizer

    def _payload(self, request: GenerationRequest) -> dict:
        body: dict = {
            "model": self.cfg.server_model,
            "messages": list(request.messages),
            "stream": True,
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        if request.stop:
            body["stop"] = list(request.stop)[:4]
        if request.seed is not None:
            body["seed"] = request.seed
        return body

    def stream(self, request: GenerationRequest, stats: GenerationStats | None = None) -> Iterator[str]:
        stats = stats if stats is not None else GenerationStats()
        scanner = StopScanner(request.stop)
        start = time.perf_counter()
        attempt = 0
        while True:
            try:
                with self.client.stream("POST", "/chat/completions", json=self._payload(request)) as resp:
                    if resp.status_code in RETRY_STATUS:
                        raise _Retry(f"HTTP {resp.status_code}")
                    if resp.status_code != 200:
                        body = resp.read().decode("utf-8", "replace")[:300]
                        raise BackendError(f"server answered HTTP {resp.status_code}: {body}")
                    for piece in self._events(resp, stats):
                        out = scanner.feed(piece)
                        if out:
                            if not stats.time_to_first_token_s:
                                stats.time_to_first_token_s = time.perf_counter() - start
                            yield out
                        if scanner.stopped:
                            break
                break
            except (_Retry, httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
                if stats.time_to_first_token_s or attempt >= self.cfg.retries:
                    raise BackendUnavailable(
                        f"cannot reach {self.cfg.base_url} ({exc}) after {attempt + 1} attempt(s)"
                    ) from exc
                time.sleep(min(4.0, 0.25 * 2**attempt))
                attempt += 1
            except httpx.ReadTimeout as exc:
                raise BackendUnavailable(
                    f"{self.cfg.base_url} sent nothing for {self.cfg.timeout_s}s"
                ) from exc
        tail = scanner.flush()
        if tail:
            yield tail
        stats.total_s = time.perf_counter() - start
        stats.prompt_tokens = stats.prompt_tokens or self.count_tokens(request.messages)

    @staticmethod
    def _events(resp: httpx.Response, stats: GenerationStats) -> Iterator[str]:
        saw_data = False
        for line in resp.iter_lines():
            if not line or line.startswith(":"):
                continue
            if not line.startswith("data:"):
                raise BackendError(f"server sent a line that is not Server-Sent Events: {line[:120]!r}")
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
                choice = event["choices"][0]
            except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
                raise BackendError(
                    f"server sent an event that is not an OpenAI chat chunk: {data[:120]!r}"
                ) from exc
            saw_data = True
            if choice.get("finish_reason"):
                stats.finish_reason = choice["finish_reason"]
            usage = event.get("usage") or {}
            stats.prompt_tokens = usage.get("prompt_tokens", stats.prompt_tokens)
            delta = (choice.get("delta") or {}).get("content") or ""
            if delta:
                stats.completion_tokens += 1
                yield delta
        if not saw_data:
            raise BackendError("server closed the stream without sending any event")


class _Retry(Exception):
    pass
