"""Rate limits (per IP and per conversation: 429 with Retry-After), the busy queue (429 server_busy), CORS
(preflight, allowlist per site key, same origin) and clients that disconnect mid-stream: the turn stops and
everyone else keeps being served."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from bot.web.security import RateLimiter

from .conftest import (
    ALLOWED_ORIGIN,
    API_KEY,
    SITE_KEY,
    parse_sse,
    passage_reply,
    test_settings,
    widget_headers,
)

QUESTION = "what is the daily ATM withdrawal limit on a debit card?"
RELEASE = threading.Event()


def slow_when_asked(request) -> str:
    """Like passage_reply, but a question containing 'slowly' blocks until RELEASE (at most 10 s)."""
    if "slowly" in request.messages[-1]["content"]:
        RELEASE.wait(10)
    return passage_reply(request)


def test_token_bucket_refills() -> None:
    rl = RateLimiter(per_minute=60, burst=2)
    assert rl.take("a", now=0.0) == 0 and rl.take("a", now=0.0) == 0
    assert rl.take("a", now=0.0) == pytest.approx(1.0)
    assert rl.take("b", now=0.0) == 0  # other keys are independent
    assert rl.take("a", now=1.5) == 0  # refilled


def test_token_bucket_memory_is_bounded() -> None:
    rl = RateLimiter(per_minute=60, burst=1, max_keys=100)
    for i in range(1000):
        rl.take(f"k{i}")
    assert len(rl.buckets) == 100


def test_per_ip_limit_gives_429_with_retry_after(serve) -> None:
    srv = serve(test_settings(ip_burst=3, ip_rate_per_min=6))
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        codes = [
            c.post("/api/chat", json={"message": QUESTION, "session_id": f"ip-{i}"}, headers=widget_headers())
            for i in range(5)
        ]
    assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
    limited = codes[3]
    assert limited.json()["error"]["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
    assert limited.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "retry-after" in limited.headers["access-control-expose-headers"]


def test_per_session_limit_leaves_other_sessions_alone(serve) -> None:
    srv = serve(test_settings(session_burst=2, session_rate_per_min=1))
    with httpx.Client(base_url=srv.url, timeout=30) as c:

        def ask(session: str) -> int:
            body = {"message": QUESTION, "session_id": session}
            return c.post("/api/chat", json=body, headers=widget_headers()).status_code

        assert [ask("sess-a") for _ in range(3)] == [200, 200, 429]
        assert ask("sess-b") == 200
        auth = {"Authorization": f"Bearer {API_KEY}"}
        body = {
            "model": "fernhollow-assistant",
            "messages": [{"role": "user", "content": "hi"}],
            "user": "sess-a",
        }
        r = c.post("/v1/chat/completions", json=body, headers=auth)
        assert r.status_code == 429 and r.headers["retry-after"]


def test_busy_server_refuses_with_429_instead_of_queueing_forever(serve) -> None:
    RELEASE.clear()
    srv = serve(test_settings(max_concurrent_turns=1, max_queued_turns=0), reply=slow_when_asked)
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        with c.stream(
            "POST", "/api/chat", json={"message": QUESTION + " slowly"}, headers=widget_headers()
        ) as held:
            assert held.status_code == 200
            busy = c.post("/api/chat", json={"message": QUESTION}, headers=widget_headers())
            assert busy.status_code == 429 and busy.json()["error"]["code"] == "server_busy"
            assert busy.headers["retry-after"] == "2"
            RELEASE.set()
            assert parse_sse(held.read().decode())[-1][0] == "final"
        deadline = time.monotonic() + 5
        while srv.app.state.runner.stats()["pending"]:  # the place frees just after the final event
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert c.post("/api/chat", json={"message": QUESTION}, headers=widget_headers()).status_code == 200


# -- CORS --------------------------------------------------------------------------------------------
def test_preflight_for_allowed_and_disallowed_origins(client) -> None:
    pre = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-widget-key",
    }
    ok = client.options("/api/chat", headers={**pre, "Origin": ALLOWED_ORIGIN})
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "x-widget-key" in ok.headers["access-control-allow-headers"]
    bad = client.options("/api/chat", headers={**pre, "Origin": "http://evil.example"})
    assert bad.status_code == 403 and bad.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in bad.headers


def test_disallowed_origin_is_403_json(client) -> None:
    r = client.post("/api/chat", json={"message": "hi"}, headers=widget_headers(origin="http://evil.example"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed"


def test_origin_must_belong_to_the_key(serve) -> None:
    settings = test_settings(site_keys={SITE_KEY: [ALLOWED_ORIGIN], "other-key": ["http://other.example"]})
    srv = serve(settings)
    r = httpx.post(
        srv.url + "/api/chat", json={"message": "hi"}, headers=widget_headers(origin="http://other.example")
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed"


def test_same_origin_is_always_allowed(client, server) -> None:
    r = client.post("/api/chat", json={"message": QUESTION}, headers=widget_headers(origin=server.url))
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == server.url


# -- disconnects -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/chat", "/v1/chat/completions"])
def test_client_disconnect_mid_stream_cancels_the_turn_and_others_are_served(serve, path: str) -> None:
    RELEASE.clear()
    srv = serve(test_settings(), reply=slow_when_asked)
    runner = srv.app.state.runner
    before = runner.stats()["cancelled"]
    headers = widget_headers() if path == "/api/chat" else {"Authorization": f"Bearer {API_KEY}"}
    body = (
        {"message": QUESTION + " slowly"}
        if path == "/api/chat"
        else {
            "model": "fernhollow-assistant",
            "messages": [{"role": "user", "content": QUESTION + " slowly"}],
            "stream": True,
        }
    )
    with (
        httpx.Client(base_url=srv.url, timeout=30) as c,
        c.stream("POST", path, json=body, headers=headers) as r,
    ):
        assert r.status_code == 200
        next(r.iter_lines())  # the first event arrived; now hang up
    with httpx.Client(base_url=srv.url, timeout=30) as c:  # others are served meanwhile
        ok = c.post("/api/chat", json={"message": QUESTION}, headers=widget_headers())
        assert ok.status_code == 200 and parse_sse(ok.text)[-1][0] == "final"
    RELEASE.set()
    deadline = time.monotonic() + 10
    while runner.stats()["cancelled"] == before or runner.stats()["active"]:
        assert time.monotonic() < deadline, runner.stats()
        time.sleep(0.05)
    stats = runner.stats()
    assert stats["failed"] == 0 and stats["pending"] == 0
    assert httpx.get(srv.url + "/healthz").json()["status"] == "ok"


def test_a_turn_past_its_time_limit_ends_with_an_error_not_a_hang(serve) -> None:
    RELEASE.clear()
    srv = serve(test_settings(turn_timeout_s=0.5), reply=slow_when_asked)
    auth = {"Authorization": f"Bearer {API_KEY}"}
    body = {"model": "fernhollow-assistant", "messages": [{"role": "user", "content": QUESTION + " slowly"}]}
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        r = c.post("/v1/chat/completions", json=body, headers=auth)
        assert r.status_code == 504 and r.json()["error"]["code"] == "turn_timeout"
        w = c.post("/api/chat", json={"message": QUESTION + " slowly"}, headers=widget_headers())
        assert w.status_code == 200 and parse_sse(w.text)[-1][0] == "error"
    RELEASE.set()
    assert srv.app.state.runner.stats()["timed_out"] == 2
