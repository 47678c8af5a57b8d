"""The FastAPI app without the Gradio UI: the widget's endpoints (`POST /api/chat` streams a turn as
Server-Sent Events; `/api/feedback`, `/api/handoff`), the OpenAI-compatible `/v1` routes, `GET /healthz`
(liveness, memory, turn counters), `GET /readyz` (models loaded, index present, database reachable: 200 or
503 naming what failed), and the widget's static files (`/widget.js`, `/static/*`, a demo page at
`/demo`). `create_app(assistant, settings)` is all a caller needs; app.py adds the Gradio UI on top. Every
decision about a turn stays in the assistant; this layer authenticates, limits, streams and renders."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psutil
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from .errors import ApiError, install_error_handlers, read_json
from .openai_api import SESSION_RE, make_router
from .security import ApiGuardMiddleware, RateLimiter, check_site_key, client_ip
from .settings import WebSettings
from .turns import KEEPALIVE, Turn, TurnRunner

log = logging.getLogger("bot.web")
STATIC = Path(__file__).resolve().parent / "static"
SessionId = Field(default=None, pattern=SESSION_RE.pattern)


class WidgetChat(BaseModel):
    message: str = Field(min_length=1, max_length=8000)
    session_id: str | None = SessionId


class FeedbackIn(BaseModel):
    turn_id: int = Field(ge=1)
    rating: int = Field(description="+1 (thumbs up) or -1 (thumbs down)")
    comment: str = Field(default="", max_length=2000)
    session_id: str = Field(pattern=SESSION_RE.pattern)


class HandoffIn(BaseModel):
    session_id: str = Field(pattern=SESSION_RE.pattern)
    reason: str = Field(default="customer asked for a person", max_length=300)


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def readiness(assistant: Any, app_state: Any) -> dict[str, dict[str, Any]]:
    """Each part the assistant needs, with ok and a short detail."""
    checks: dict[str, dict[str, Any]] = {}
    backend = assistant.backend
    warm_error = getattr(app_state, "warm_error", None)
    loaded = getattr(backend, "model", True) is not None if hasattr(backend, "model") else True
    checks["model"] = {
        "ok": loaded and not warm_error,
        "detail": warm_error
        or f"{getattr(backend, 'name', type(backend).__name__)} backend "
        + ("loaded" if loaded else "loading"),
    }
    try:
        chunks = len(assistant.kb.retriever.index.chunks)
        checks["index"] = {"ok": chunks > 0, "detail": f"{chunks} passages"}
    except Exception as exc:
        checks["index"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:200]}
    checks["classifiers"] = {
        "ok": assistant.classifiers is not None,
        "detail": type(assistant.classifiers).__name__,
    }
    store = assistant.store
    if store is None:
        checks["database"] = {"ok": True, "detail": "recording disabled"}
    else:
        ok = bool(store.ping())
        checks["database"] = {"ok": ok, "detail": "reachable" if ok else "not reachable"}
    return checks


def create_app(assistant: Any, settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings.from_env()
    runner = TurnRunner(
        assistant, settings.max_concurrent_turns, settings.max_queued_turns, settings.turn_timeout_s
    )
    limits = {
        "ip": RateLimiter(settings.ip_rate_per_min, settings.ip_burst),
        "session": RateLimiter(settings.session_rate_per_min, settings.session_burst),
    }
    started = time.time()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.warm_error = None
        if settings.warm_up:

            def warm() -> None:
                try:
                    assistant.backend.warm_up()
                except Exception as exc:  # reported by /readyz; turns fall back to cited extracts
                    app.state.warm_error = f"{type(exc).__name__}: {exc}"[:300]
                    log.error("model warm-up failed: %s", exc)

            threading.Thread(target=warm, name="warm-up", daemon=True).start()
        yield
        runner.shutdown()

    if not settings.api_keys and settings.host not in {"127.0.0.1", "localhost", "::1"}:
        log.warning("/v1 is open to anyone who can reach %s: set BOT_WEB_API_KEYS", settings.host)
    app = FastAPI(title="Fernhollow Bank assistant", version="1", lifespan=lifespan, docs_url="/api/docs")
    app.state.assistant, app.state.settings, app.state.runner, app.state.limits = (
        assistant,
        settings,
        runner,
        limits,
    )
    install_error_handlers(app)
    app.add_middleware(ApiGuardMiddleware, settings=settings)
    app.include_router(make_router(runner, settings, limits))

    @app.post("/api/chat", response_model=None)
    async def chat(request: Request) -> StreamingResponse:
        check_site_key(request, settings)
        limits["ip"].check(client_ip(request, settings), "client")
        body = await read_json(request, WidgetChat, settings.max_body_bytes)
        session = body.session_id or os.urandom(16).hex()
        limits["session"].check(session, "conversation")
        turn = runner.start(session, body.message, channel="widget")
        return StreamingResponse(
            _widget_stream(turn, session),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Session-Id": session},
        )

    @app.post("/api/feedback")
    async def feedback(request: Request) -> dict:
        check_site_key(request, settings)
        limits["ip"].check(client_ip(request, settings), "client")
        body = await read_json(request, FeedbackIn, settings.max_body_bytes)
        if body.rating not in (1, -1):
            raise ApiError(400, "rating must be 1 or -1", "invalid_request", param="rating")
        if assistant.store is None:
            raise ApiError(503, "feedback needs the conversation database", "recording_disabled")
        turns = await asyncio.to_thread(assistant.store.turns, body.session_id)
        if body.turn_id not in {t.id for t in turns}:
            raise ApiError(404, "no such turn in this conversation", "turn_not_found", param="turn_id")
        fid = await asyncio.to_thread(assistant.feedback, body.turn_id, body.rating, body.comment)
        return {"id": fid, "turn_id": body.turn_id, "rating": body.rating}

    @app.post("/api/handoff")
    async def handoff(request: Request) -> dict:
        check_site_key(request, settings)
        limits["ip"].check(client_ip(request, settings), "client")
        body = await read_json(request, HandoffIn, settings.max_body_bytes)
        limits["session"].check(body.session_id, "conversation")
        result = await asyncio.to_thread(assistant.handoff, body.session_id, body.reason)
        return {**result, "session_id": body.session_id}

    @app.get("/healthz")
    async def healthz() -> dict:
        return {
            "status": "ok",
            "pid": os.getpid(),
            "uptime_s": round(time.time() - started, 1),
            "rss_bytes": psutil.Process().memory_info().rss,
            "turns": runner.stats(),
            "sessions_in_memory": len(getattr(assistant, "memory", {})),
            "rate_limit_keys": {k: len(v.buckets) for k, v in limits.items()},
        }

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = await asyncio.to_thread(readiness, assistant, app.state)
        failed = [k for k, v in checks.items() if not v["ok"]]
        return JSONResponse(
            {"ready": not failed, "failed": failed, "checks": checks}, status_code=503 if failed else 200
        )

    @app.get("/widget.js")
    async def widget_js() -> FileResponse:
        return FileResponse(
            STATIC / "widget.js",
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=300"},
        )

    @app.get("/demo")
    async def demo() -> FileResponse:
        return FileResponse(STATIC / "demo.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.api_route(
        "/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    @app.api_route(
        "/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    async def unknown(request: Request, rest: str) -> None:
        known = {r.path for r in app.routes if getattr(r, "path", "").startswith(("/api/", "/v1/"))}
        if request.url.path in known:
            raise ApiError(405, f"{request.method} is not allowed here", "method_not_allowed")
        raise ApiError(404, "no such endpoint", "not_found")

    return app


async def _widget_stream(turn: Turn, session: str) -> AsyncIterator[str]:
    """SSE for the widget: session, token..., citations, handoff, final (tool results stay server-side:
    customers do not see sentiment or risk)."""
    events = turn.events(keepalive=True)
    try:
        yield sse("session", {"session_id": session})
        async for ev in events:
            if ev is KEEPALIVE:
                yield ": keep-alive\n\n"
            elif ev["type"] == "token":
                yield sse("token", {"text": ev["text"]})
            elif ev["type"] == "citations":
                keep = ("n", "title", "section", "url")
                yield sse("citations", {"sources": [{k: s.get(k) for k in keep} for s in ev["sources"]]})
            elif ev["type"] == "handoff":
                yield sse("handoff", {k: ev.get(k) for k in ("offered", "ticket", "reason")})
            elif ev["type"] == "final":
                keep = ("text", "turn_id", "session_id", "route", "status")
                yield sse("final", {k: ev.get(k) for k in keep})
    except Exception as exc:
        log.error("turn for %s failed: %s", session, exc)
        yield sse(
            "error", {"message": "Sorry, something went wrong. Please try again.", "code": "turn_failed"}
        )
    finally:
        turn.cancel()
        await events.aclose()
