"""The HTTP API over real TCP with httpx: the widget's SSE turn, feedback, handoff, health and readiness,
and every error case (malformed JSON, wrong content type, oversized body, unknown model, missing or wrong
key, disallowed origin, unknown route), each answered with a correct status and a JSON error."""

from __future__ import annotations

import json

import httpx
import pytest

from .conftest import ALLOWED_ORIGIN, API_KEY, SITE_KEY, parse_sse, widget_headers

QUESTION = "what is the daily ATM withdrawal limit on a debit card?"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()["error"]
    assert err["code"] == code and err["message"] and err["type"]
    return err


def widget_turn(client: httpx.Client, message: str, session: str | None = None) -> list[tuple[str, dict]]:
    body = {"message": message, **({"session_id": session} if session else {})}
    r = client.post("/api/chat", json=body, headers=widget_headers())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    return parse_sse(r.text)


def test_widget_chat_streams_tokens_sources_and_final(client) -> None:
    events = widget_turn(client, QUESTION, "w-session-1")
    kinds = [e for e, _ in events]
    assert kinds[0] == "session" and kinds[-1] == "final" and "token" in kinds
    final = events[-1][1]
    assert final["session_id"] == "w-session-1" and final["turn_id"] and "[1]" in final["text"]
    assert " ".join(d["text"] for e, d in events if e == "token") == final["text"]
    sources = next(d for e, d in events if e == "citations")["sources"]
    assert sources[0]["url"].startswith("https://") and sources[0]["title"]
    assert "tool" not in kinds  # customers do not see sentiment or risk


def test_new_session_id_is_issued_and_reused(client) -> None:
    events = widget_turn(client, QUESTION)
    sid = events[0][1]["session_id"]
    assert len(sid) == 32 and events[-1][1]["session_id"] == sid


def test_feedback_is_stored_for_own_turn_only(client, server) -> None:
    final = widget_turn(client, QUESTION, "fb-session")[-1][1]
    ok = client.post(
        "/api/feedback",
        json={"turn_id": final["turn_id"], "rating": -1, "comment": "too short", "session_id": "fb-session"},
        headers=widget_headers(),
    )
    assert ok.status_code == 200 and ok.json()["id"] >= 1
    other = client.post(
        "/api/feedback",
        json={"turn_id": final["turn_id"], "rating": 1, "session_id": "someone-else"},
        headers=widget_headers(),
    )
    assert_error(other, 404, "turn_not_found")
    bad = client.post(
        "/api/feedback",
        json={"turn_id": final["turn_id"], "rating": 5, "session_id": "fb-session"},
        headers=widget_headers(),
    )
    assert_error(bad, 400, "invalid_request")
    turns = server.app.state.assistant.store.turns("fb-session")
    assert turns and turns[0].id == final["turn_id"]


def test_handoff_creates_a_ticket(client, server) -> None:
    r = client.post("/api/handoff", json={"session_id": "ho-session"}, headers=widget_headers())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ticket"] >= 1 and body["text"] and body["session_id"] == "ho-session"
    assert server.app.state.assistant.store.handoffs("ho-session")


def test_healthz_and_readyz(client) -> None:
    h = client.get("/healthz").json()
    assert h["status"] == "ok" and h["rss_bytes"] > 10_000_000 and "active" in h["turns"]
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["ready"] is True
    assert set(r.json()["checks"]) >= {"model", "index", "database"}


def test_readyz_names_the_failed_part(server, monkeypatch) -> None:
    store = server.app.state.assistant.store
    monkeypatch.setattr(store, "ping", lambda: False)
    r = httpx.get(server.url + "/readyz")
    assert r.status_code == 503 and r.json()["failed"] == ["database"]


def test_readyz_reports_a_model_still_loading(server, monkeypatch) -> None:
    monkeypatch.setattr(server.app.state.assistant.backend, "model", None, raising=False)
    r = httpx.get(server.url + "/readyz")
    assert r.status_code == 503 and "model" in r.json()["failed"]


# -- bad input ----------------------------------------------------------------------------------------
def test_malformed_json_is_400(client) -> None:
    r = client.post("/api/chat", content=b'{"message": "hi",', headers=widget_headers())
    assert_error(r, 400, "invalid_json")
    r = client.post(
        "/v1/chat/completions", content=b"not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert_error(r, 400, "invalid_json")


def test_schema_violation_is_400_with_param(client) -> None:
    r = client.post("/api/chat", json={"message": ""}, headers=widget_headers())
    assert assert_error(r, 400, "invalid_request")["param"] == "message"
    r = client.post(
        "/v1/chat/completions", json={"model": "fernhollow-assistant", "messages": []}, headers=AUTH
    )
    assert assert_error(r, 400, "invalid_request")["param"] == "messages"
    r = client.post(
        "/v1/chat/completions",
        json={"model": "fernhollow-assistant", "messages": [{"role": "system", "content": "x"}]},
        headers=AUTH,
    )
    assert_error(r, 400, "invalid_request")


def test_wrong_content_type_is_415(client) -> None:
    headers = {**widget_headers(), "Content-Type": "text/plain"}
    r = client.post("/api/chat", content=json.dumps({"message": "hi"}), headers=headers)
    assert_error(r, 415, "unsupported_media_type")
    r = client.post("/v1/chat/completions", data={"model": "x"}, headers=AUTH)
    assert_error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_body_is_413(client, server, chunked: bool) -> None:
    big = json.dumps({"message": "x" * (server.app.state.settings.max_body_bytes + 10)}).encode()
    content = iter([big[:1000], big[1000:]]) if chunked else big
    r = client.post("/api/chat", content=content, headers=widget_headers())
    assert_error(r, 413, "request_too_large")
    assert r.headers["access-control-allow-origin"] == ALLOWED_ORIGIN  # the browser can read why


def test_unknown_model_is_404(client) -> None:
    r = client.post(
        "/v1/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]},
        headers=AUTH,
    )
    assert assert_error(r, 404, "model_not_found")["param"] == "model"


def test_missing_and_wrong_keys(client) -> None:
    msg = {"model": "fernhollow-assistant", "messages": [{"role": "user", "content": "hi"}]}
    assert_error(client.post("/v1/chat/completions", json=msg), 401, "missing_api_key")
    wrong = {"Authorization": "Bearer sk-wrong"}
    assert_error(client.post("/v1/chat/completions", json=msg, headers=wrong), 403, "invalid_api_key")
    assert_error(client.get("/v1/models"), 401, "missing_api_key")
    no_key = {"Origin": ALLOWED_ORIGIN}
    assert_error(client.post("/api/chat", json={"message": "hi"}, headers=no_key), 401, "missing_site_key")
    bad_key = widget_headers(key="not-a-key")
    assert_error(client.post("/api/chat", json={"message": "hi"}, headers=bad_key), 403, "invalid_site_key")


def test_server_side_caller_may_use_an_api_key_on_api_routes(client) -> None:
    r = client.post("/api/handoff", json={"session_id": "srv-1"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["ticket"]


def test_unknown_routes_and_methods_are_json(client) -> None:
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.get("/v1/embeddings"), 404, "not_found")
    assert_error(client.get("/api/chat", headers={"X-Widget-Key": SITE_KEY}), 405, "method_not_allowed")


def test_each_front_end_records_its_channel(client, server) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from bot.storage.models import ChatSession

    widget_turn(client, QUESTION, "ch-widget")
    r = client.post(
        "/v1/chat/completions",
        json={"model": "fernhollow-assistant", "messages": [{"role": "user", "content": QUESTION}]},
        headers={**AUTH, "X-Session-Id": "ch-openai"},
    )
    assert r.status_code == 200, r.text
    with Session(server.app.state.assistant.store.engine) as db:
        rows = dict(db.execute(select(ChatSession.id, ChatSession.channel)).all())
    assert rows["ch-widget"] == "widget" and rows["ch-openai"] == "openai"
