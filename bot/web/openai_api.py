"""`POST /v1/chat/completions` and `GET /v1/models`, OpenAI-compatible so that the official `openai` client
and LangChain's `ChatOpenAI` work unchanged, streaming (SSE `chat.completion.chunk`s, then `[DONE]`) and
not. Only the LAST user message is the new turn: earlier messages are the client's view of the history,
and the server's own memory of the session (id from `X-Session-Id` or the `user` field) is what the
assistant uses. The assistant's citations, tool results and handoff travel in an extra top-level field,
`fernhollow`, which standard clients ignore. Sampling parameters (temperature, top_p, ...) are accepted
and ignored: replies are verified against the documents, not sampled to taste."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from .errors import ApiError, read_json
from .security import check_api_key, client_ip
from .turns import KEEPALIVE, Turn

SESSION_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=500)
    stream: bool = False
    user: str | None = None
    stream_options: dict[str, Any] | None = None


def session_from(request: Request, user: str | None) -> str | None:
    """The conversation id: X-Session-Id, else `user`; anything that is not a plain id is hashed."""
    raw = (request.headers.get("x-session-id") or user or "").strip()
    if not raw:
        return None
    return raw if SESSION_RE.match(raw) else "u-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def last_user_text(messages: list[ChatMessageIn]) -> str:
    for m in reversed(messages):
        if m.role == "user":
            if isinstance(m.content, str):
                return m.content
            if isinstance(m.content, list):
                return " ".join(str(p.get("text", "")) for p in m.content if p.get("type") == "text")
            break
    raise ApiError(400, "messages must contain a user message", "invalid_request", param="messages")


class TurnSummary:
    """Collects a turn's events into the reply text and the `fernhollow` extra field."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.extra: dict[str, Any] = {"tools": {}, "citations": [], "handoff": None}

    def add(self, ev: dict) -> str | None:
        """Record the event; returns the text to send as a content delta, if any."""
        kind = ev.get("type")
        if kind == "token":
            piece = ev["text"] if not self.tokens else " " + ev["text"]
            self.tokens.append(ev["text"])
            return piece
        if kind == "tool":
            self.extra["tools"][ev["name"]] = ev["output"]
        elif kind == "citations":
            self.extra["citations"] = ev["sources"]
        elif kind == "handoff":
            self.extra["handoff"] = {k: ev.get(k) for k in ("offered", "ticket", "reason")}
        elif kind == "final":
            self.extra.update(
                {k: ev.get(k) for k in ("session_id", "turn_id", "route", "status", "timings_ms")}
            )
        return None

    def usage(self, prompt: str) -> dict[str, int]:
        p, c = len(prompt.split()), len(" ".join(self.tokens).split())
        return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def make_router(runner: Any, settings: Any, limits: dict[str, Any]) -> APIRouter:
    router = APIRouter()

    @router.get("/v1/models")
    async def models(request: Request) -> dict:
        check_api_key(request, settings)
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "fernhollow"} for m in settings.models
            ],
        }

    @router.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        check_api_key(request, settings)
        limits["ip"].check(client_ip(request, settings), "client")
        body = await read_json(request, ChatCompletionRequest, settings.max_body_bytes)
        if body.model not in settings.models:
            raise ApiError(
                404,
                f"The model '{body.model}' does not exist; available: {', '.join(settings.models)}",
                "model_not_found",
                param="model",
            )
        text = last_user_text(body.messages)
        session = session_from(request, body.user) or uuid.uuid4().hex
        limits["session"].check(session, "conversation")
        turn = runner.start(session, text, channel="openai")
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        headers = {"X-Session-Id": session}
        if not body.stream:
            summary = TurnSummary()
            try:
                async for ev in turn.events():
                    summary.add(ev)
            except TimeoutError as exc:
                raise ApiError(504, str(exc), "turn_timeout") from exc
            return JSONResponse(
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": created,
                    "model": body.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": " ".join(summary.tokens)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": summary.usage(text),
                    "fernhollow": summary.extra,
                },
                headers=headers,
            )
        include_usage = bool((body.stream_options or {}).get("include_usage"))
        stream = _stream(turn, text, cid, created, body.model, include_usage)
        return StreamingResponse(
            stream, media_type="text/event-stream", headers={**headers, "Cache-Control": "no-cache"}
        )

    return router


async def _stream(
    turn: Turn, text: str, cid: str, created: int, model: str, include_usage: bool
) -> AsyncIterator[str]:
    def chunk(delta: dict, finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    summary = TurnSummary()
    events = turn.events(keepalive=True)
    try:
        yield chunk({"role": "assistant", "content": ""})
        async for ev in events:
            if ev is KEEPALIVE:
                yield ": keep-alive\n\n"
                continue
            piece = summary.add(ev)
            if piece:
                yield chunk({"content": piece})
    except Exception as exc:  # headers are sent: report in-band, the way OpenAI does
        err = {
            "error": {"message": str(exc)[:300], "type": "server_error", "param": None, "code": "turn_failed"}
        }
        yield f"data: {json.dumps(err)}\n\n"
        return
    finally:
        turn.cancel()
        await events.aclose()
    yield chunk({}, "stop", fernhollow=summary.extra)
    if include_usage:
        usage_chunk = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": summary.usage(text),
        }
        yield f"data: {json.dumps(usage_chunk)}\n\n"
    yield "data: [DONE]\n\n"
