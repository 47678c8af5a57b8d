"""The OpenAI-compatible backend against a real HTTP server on loopback: streaming, retries, timeouts,
garbage and errors, each ending in text or a clear exception, never a hang."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.llm import BackendError, BackendUnavailable, GenerationRequest, GenerationStats, LLMConfig, generate
from bot.llm.openai_http import OpenAICompatibleBackend

REQ = GenerationRequest([{"role": "user", "content": "fee?"}], max_new_tokens=20)


class Server:
    """Answers POST /v1/chat/completions according to `self.script`, a list of behaviours consumed in order."""

    def __init__(self) -> None:
        self.script: list[str] = []
        self.bodies: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a) -> None:
                pass

            def do_POST(self) -> None:
                outer.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                mode = outer.script.pop(0) if outer.script else "ok"
                if mode == "503":
                    self.send_response(503)
                    self.end_headers()
                    self.wfile.write(b"busy")
                    return
                if mode == "400":
                    self.send_response(400)
                    self.end_headers()
                    self.wfile.write(b'{"error": "unknown model"}')
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                if mode == "garbage":
                    self.wfile.write(b"<html>not an event stream</html>\n")
                    return
                if mode == "slow":
                    time.sleep(2)
                    return
                for word in ["The ", "fee ", "is ", "$25 ", "[1]."]:
                    chunk = {"choices": [{"delta": {"content": word}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                end = {"choices": [{"delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 11}}
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()


def _backend(url: str, **kw) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(LLMConfig(backend="openai", base_url=url, server_model="smol", **kw))


def test_streams_tokens(server) -> None:
    stats = GenerationStats()
    pieces = list(_backend(server.url).stream(REQ, stats))
    assert "".join(pieces) == "The fee is $25 [1]." and len(pieces) == 5
    assert stats.finish_reason == "stop" and stats.prompt_tokens == 11 and stats.time_to_first_token_s > 0
    body = server.bodies[0]
    assert body["stream"] is True and body["model"] == "smol" and body["max_tokens"] == 20


def test_stop_strings_cut_the_stream(server) -> None:
    req = GenerationRequest(REQ.messages, stop=("$25",))
    assert generate(_backend(server.url), req) == "The fee is "


def test_retries_on_503_then_succeeds(server) -> None:
    server.script = ["503", "503"]
    assert generate(_backend(server.url, retries=2), REQ) == "The fee is $25 [1]."
    assert len(server.bodies) == 3


def test_gives_up_after_retries(server) -> None:
    server.script = ["503", "503", "503"]
    with pytest.raises(BackendUnavailable, match="after 2 attempt"):
        generate(_backend(server.url, retries=1), REQ)


def test_client_error_is_not_retried(server) -> None:
    server.script = ["400"]
    with pytest.raises(BackendError, match=r"HTTP 400.*unknown model"):
        generate(_backend(server.url), REQ)
    assert len(server.bodies) == 1


def test_garbage_is_a_clear_error(server) -> None:
    server.script = ["garbage"]
    with pytest.raises(BackendError, match="not Server-Sent Events"):
        generate(_backend(server.url), REQ)


def test_stalled_server_times_out(server) -> None:
    server.script = ["slow"]
    start = time.perf_counter()
    with pytest.raises(BackendUnavailable, match="sent nothing"):
        generate(_backend(server.url, timeout_s=0.5), REQ)
    assert time.perf_counter() - start < 1.9


def test_server_down_is_unavailable() -> None:
    with pytest.raises(BackendUnavailable, match="cannot reach"):
        generate(_backend("http://127.0.0.1:9/v1", retries=1), REQ)
