"""Typed settings of the web front ends (address, keys, allowed origins, size and rate limits, concurrency),
each with a description; `BOT_WEB_<FIELD>` environment variables override the defaults (tuples as comma
lists, the site-key mapping as JSON) and validation says what to fix. The assistant's own settings stay in
bot/config.py (`BOT_*`); this file knows nothing about models or the database."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from knowledge import env_values


def _f(default: Any, description: str) -> Any:
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata={"description": description})
    return field(default=default, metadata={"description": description})


class WebSettingsError(ValueError):
    pass


DEMO_KEY = "demo-site-key"


@dataclass(frozen=True)
class WebSettings:
    host: str = _f("127.0.0.1", "Address to listen on (0.0.0.0 to accept other machines).")
    port: int = _f(8000, "TCP port of the one process serving the chat, the API and the widget.")
    models: tuple[str, ...] = _f(
        ("fernhollow-assistant",), "Model names /v1/chat/completions accepts; any other name gets a 404."
    )
    api_keys: tuple[str, ...] = _f(
        (), "Bearer keys for /v1 (and server-side /api calls); empty = /v1 is open (loopback demos only)."
    )
    site_keys: dict[str, list[str]] = _f(
        {DEMO_KEY: ["http://127.0.0.1:8000", "http://localhost:8000"]},
        "Widget key -> origins allowed to use it (JSON). The server's own origin is always allowed.",
    )
    staff_key: str = _f("", "Password of the staff view (/staff, any user name); empty = no staff view.")
    max_body_bytes: int = _f(32_768, "Largest request body accepted on /api and /v1 (413 above).")
    ip_rate_per_min: float = _f(120.0, "Sustained requests per minute per client IP (token bucket).")
    ip_burst: int = _f(40, "Requests a client IP may send at once before the rate applies.")
    session_rate_per_min: float = _f(20.0, "Sustained messages per minute per conversation.")
    session_burst: int = _f(6, "Messages a conversation may send at once before the rate applies.")
    max_concurrent_turns: int = _f(4, "Turns generated at the same time; more wait in a queue.")
    max_queued_turns: int = _f(
        8,
        "Turns allowed to wait; beyond that requests get 429 (server busy). On 2 CPU cores the local 135M model "
        "finishes ~0.17 turns/s under load (measured), so 8 waiting turns start within ~50 s, inside turn_timeout_s.",
    )
    turn_timeout_s: float = _f(180.0, "A turn still running after this long ends with an error event.")
    trust_forwarded_for: bool = _f(False, "Take the client IP from X-Forwarded-For (behind a proxy only).")
    warm_up: bool = _f(True, "Load the model in the background at start-up (/readyz says when done).")
    gradio_path: str = _f("/", "Where the customer chat is mounted.")
    staff_path: str = _f("/staff", "Where the staff view is mounted (when staff_key is set).")

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise WebSettingsError("port must be within 0..65535")
        if not self.models:
            raise WebSettingsError("models must name at least one model")
        if not 1024 <= self.max_body_bytes <= 10_000_000:
            raise WebSettingsError("max_body_bytes must be within 1024..10000000")
        if self.ip_rate_per_min <= 0 or self.session_rate_per_min <= 0:
            raise WebSettingsError("rates must be positive")
        if self.ip_burst < 1 or self.session_burst < 1:
            raise WebSettingsError("bursts must be at least 1")
        if not 1 <= self.max_concurrent_turns <= 256:
            raise WebSettingsError("max_concurrent_turns must be within 1..256")
        if not 0 <= self.max_queued_turns <= 100_000:
            raise WebSettingsError("max_queued_turns must be within 0..100000")
        if self.turn_timeout_s <= 0:
            raise WebSettingsError("turn_timeout_s must be positive")
        for key, origins in self.site_keys.items():
            if not key or not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
                raise WebSettingsError("site_keys must map each non-empty key to a list of origins")
            bad = [o for o in origins if o != "*" and not o.startswith(("http://", "https://"))]
            if bad or any(o.endswith("/") for o in origins):
                raise WebSettingsError(
                    f"site key {key!r}: origins look like https://host[:port], got {origins}"
                )
        for path in (self.gradio_path, self.staff_path):
            if not path.startswith("/"):
                raise WebSettingsError(f"mount paths start with '/': {path!r}")

    # -- derived ---------------------------------------------------------------------------------------
    def all_origins(self) -> frozenset[str]:
        """Every origin some site key allows: what a CORS preflight may be answered for."""
        return frozenset(o for origins in self.site_keys.values() for o in origins)

    @classmethod
    def describe(cls) -> dict[str, str]:
        return {f.name: f.metadata.get("description", "") for f in fields(cls)}

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> WebSettings:
        values = env_values(cls, "BOT_WEB_", WebSettingsError, environ)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
