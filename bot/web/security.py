"""Who may call the API and how often: token-bucket rate limits (per client IP and per conversation), key
checks (bearer API keys for /v1, site keys for the widget, each tied to its allowed origins) and one ASGI
middleware for /api and /v1 that answers CORS preflights, refuses disallowed origins and oversized bodies
before a route runs, and adds CORS headers to every answer for an allowed origin (errors included, so a
browser can read them). It is pure ASGI on purpose: streamed responses and client disconnects pass through
untouched. It does not know about turns or models."""

from __future__ import annotations

import hmac
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from .errors import ApiError, error_body
from .settings import WebSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
GUARDED_PREFIXES = ("/api/", "/v1/")
ALLOW_HEADERS = "authorization, content-type, x-widget-key, x-session-id"
EXPOSE_HEADERS = "retry-after, x-session-id"


class RateLimiter:
    """Token buckets keyed by any string (an IP, a session id); bounded in memory (least recently used
    keys are forgotten first, which only ever makes the limit more lenient). Thread-safe."""

    def __init__(self, per_minute: float, burst: int, max_keys: int = 50_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one token. Returns 0 when allowed, else the seconds until a token is available."""
        now = time.monotonic() if now is None else now
        with self.lock:
            tokens, last = self.buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self.buckets[key] = (tokens, now)
            while len(self.buckets) > self.max_keys:
                self.buckets.popitem(last=False)
        return wait

    def check(self, key: str, what: str) -> None:
        wait = self.take(key)
        if wait > 0:
            secs = max(1, math.ceil(wait))
            raise ApiError(
                429,
                f"too many requests from this {what}; retry after {secs} s",
                "rate_limited",
                headers={"Retry-After": str(secs)},
            )


def client_ip(request: Request, settings: WebSettings) -> str:
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


def own_origin(scope: Scope) -> str:
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}"


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


def _known(key: str, keys: list[str] | tuple[str, ...]) -> bool:
    return any(hmac.compare_digest(key.encode(), k.encode()) for k in keys)


def check_api_key(request: Request, settings: WebSettings) -> None:
    """/v1: a bearer key from `api_keys` (401 missing, 403 wrong); open when none is configured."""
    if not settings.api_keys:
        return
    key = _bearer(request)
    if not key:
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'", "missing_api_key")
    if not _known(key, settings.api_keys):
        raise ApiError(403, "the API key is not valid", "invalid_api_key")


def check_site_key(request: Request, settings: WebSettings) -> str:
    """/api: a widget's site key (X-Widget-Key) whose allowed origins include the caller's Origin, or a
    bearer API key for server-side callers. Returns which kind of caller it is."""
    bearer = _bearer(request)
    if bearer and settings.api_keys:
        if _known(bearer, settings.api_keys):
            return "api"
        raise ApiError(403, "the API key is not valid", "invalid_api_key")
    key = request.headers.get("x-widget-key", "").strip()
    if not key:
        raise ApiError(
            401, "missing site key: send the widget's data-key as X-Widget-Key", "missing_site_key"
        )
    allowed = next((v for k, v in settings.site_keys.items() if _known(key, [k])), None)
    if allowed is None:
        raise ApiError(403, "the site key is not valid", "invalid_site_key")
    origin = request.headers.get("origin")
    if origin and origin != own_origin(request.scope) and "*" not in allowed and origin not in allowed:
        raise ApiError(403, f"origin {origin} is not allowed for this site key", "origin_not_allowed")
    return "widget"


class ApiGuardMiddleware:
    """CORS, origin allowlist and body-size limit for /api and /v1 (see the module docstring)."""

    def __init__(self, app: Callable, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings
        self.origins = settings.all_origins()

    def _allowed(self, origin: str, scope: Scope) -> bool:
        return origin == own_origin(scope) or origin in self.origins or "*" in self.origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        origin = headers.get("origin")
        cors: list[tuple[bytes, bytes]] = []
        if origin is not None:
            if not self._allowed(origin, scope):
                await _send_json(
                    send, 403, error_body(403, f"origin {origin} is not allowed", "origin_not_allowed")
                )
                return
            cors = [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-expose-headers", EXPOSE_HEADERS.encode()),
                (b"vary", b"Origin"),
            ]
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            pre = [
                *cors,
                (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                (b"access-control-max-age", b"600"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": pre})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and cors:
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        limit = self.settings.max_body_bytes
        if scope["method"] in {"POST", "PUT", "PATCH"}:
            too_big = error_body(413, f"request body is larger than {limit} bytes", "request_too_large")
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                await _send_json(send_with_cors, 413, too_big)
                return
            chunks, size, more = [], 0, True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await _send_json(send_with_cors, 413, too_big)
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            receive = _replay(b"".join(chunks), receive)
        await self.app(scope, receive, send_with_cors)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # afterwards: wait for http.disconnect as usual

    return replay


async def _send_json(send: Send, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})
