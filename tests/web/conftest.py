"""Fixtures for the web tests: the assistant assembled from fakes (hashing-embedder index over the sample
library, keyword classifiers, a scripted LM that quotes passage [1], SQLite in a temp folder), and a real
uvicorn server on a random loopback port running in a thread, so that real clients (httpx, openai,
gradio_client, Chromium) talk to it over TCP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.assistant import Assistant, Parts
from bot.classifiers.fake import FakeClassifiers
from bot.config import BotConfig
from bot.llm import FakeBackend
from bot.storage import Store
from bot.web import WebSettings
from knowledge import KnowledgeBase

SITE_KEY = "test-site-key"
API_KEY = "sk-test-123"
STAFF_KEY = "staff-secret"
ALLOWED_ORIGIN = "http://allowed.example"


def passage_reply(request) -> str:
    """Quote the first figure-bearing line of passage [1], cited: a well-behaved model."""
    user = request.messages[-1]["content"]
    if "[1] " not in user:
        return "I don't have that information."
    block = user.split("[1] ", 1)[1].split("\n\n")[0].split("\n")[1:]
    line = next((x for x in block if any(c.isdigit() for c in x)), block[0] if block else "")
    return f"{line.rstrip('.')} [1]."


def make_assistant(
    kb: KnowledgeBase, db: Path, reply: Any = passage_reply, delay_s: float = 0.0
) -> Assistant:
    backend = FakeBackend(reply, delay_s=delay_s)
    store = Store(f"sqlite:///{db}")
    return Assistant(Parts(kb, FakeClassifiers(kb.embedder), backend, store), BotConfig(channel="web"))


def test_settings(**overrides: Any) -> WebSettings:
    base: dict[str, Any] = {
        "api_keys": (API_KEY,),
        "site_keys": {SITE_KEY: [ALLOWED_ORIGIN]},
        "staff_key": STAFF_KEY,
        "warm_up": False,
        "ip_rate_per_min": 100_000.0,
        "ip_burst": 100_000,
        "session_rate_per_min": 100_000.0,
        "session_burst": 100_000,
    }
    base.update(overrides)
    return WebSettings(**base)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def free_port() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class LiveServer:
    """uvicorn serving `app` on 127.0.0.1:<random port> in a daemon thread."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sock = free_port()
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


ServerFactory = Callable[..., LiveServer]


@pytest.fixture(scope="module")
def serve(sample_kb, tmp_path_factory) -> Iterator[ServerFactory]:
    """`serve(settings=..., reply=..., delay_s=..., gradio=False)` -> a started LiveServer (stopped at the end
    of the module)."""
    from bot.web.api import create_app

    started: list[LiveServer] = []

    def factory(
        settings: WebSettings | None = None,
        reply: Any = passage_reply,
        delay_s: float = 0.0,
        gradio: bool = False,
    ) -> LiveServer:
        db = tmp_path_factory.mktemp("webdb") / "web.db"
        assistant = make_assistant(sample_kb, db, reply, delay_s)
        settings = settings or test_settings()
        app = create_app(assistant, settings)
        if gradio:
            from bot.web.gradio_ui import mount_gradio

            mount_gradio(app, assistant, settings)
        server = LiveServer(app).__enter__()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def server(serve) -> LiveServer:
    """The default API server (fake LM, no rate-limit pressure)."""
    return serve()


@pytest.fixture
def client(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def widget_headers(origin: str = ALLOWED_ORIGIN, key: str = SITE_KEY) -> dict[str, str]:
    return {"X-Widget-Key": key, "Origin": origin, "Content-Type": "application/json"}


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """[(event, data)] of an SSE body (comments skipped; data parsed as JSON when it is)."""
    import json

    out = []
    for block in text.split("\n\n"):
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            raw = "\n".join(data)
            try:
                out.append((event, json.loads(raw)))
            except ValueError:
                out.append((event, raw))
    return out
