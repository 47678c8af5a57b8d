"""Web settings (defaults, `BOT_WEB_*` overrides, validation) and a short run of the load generator against
a live server: answers counted, nothing lost or mixed between sessions, 429s counted as refusals."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.web import WebSettings, WebSettingsError
from bot.web.loadtest import parse_frames, pct, run

from .conftest import API_KEY, SITE_KEY, test_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_safe_and_described() -> None:
    s = WebSettings()
    assert s.host == "127.0.0.1" and s.staff_key == "" and s.models == ("fernhollow-assistant",)
    assert all(WebSettings.describe().values())


def test_env_overrides_every_kind_of_field() -> None:
    env = {
        "BOT_WEB_PORT": "9001",
        "BOT_WEB_API_KEYS": "a, b",
        "BOT_WEB_SITE_KEYS": json.dumps({"k": ["https://bank.example"]}),
        "BOT_WEB_IP_RATE_PER_MIN": "30.5",
        "BOT_WEB_TRUST_FORWARDED_FOR": "yes",
    }
    s = WebSettings.from_env(env, host="0.0.0.0")
    assert (s.port, s.api_keys, s.host, s.ip_rate_per_min, s.trust_forwarded_for) == (
        9001,
        ("a", "b"),
        "0.0.0.0",
        30.5,
        True,
    )
    assert s.site_keys == {"k": ["https://bank.example"]} and s.all_origins() == {"https://bank.example"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BOT_WEB_PORT": "eighty"}, "BOT_WEB_PORT"),
        ({"BOT_WEB_SITE_KEYS": "[1]"}, "BOT_WEB_SITE_KEYS"),
        ({"BOT_WEB_SITE_KEYS": '{"k": ["bank.example"]}'}, "origins look like"),
        ({"BOT_WEB_MAX_BODY_BYTES": "10"}, "max_body_bytes"),
        ({"BOT_WEB_WARM_UP": "maybe"}, "BOT_WEB_WARM_UP"),
    ],
)
def test_bad_settings_say_what_to_fix(env: dict, message: str) -> None:
    with pytest.raises(WebSettingsError, match=message):
        WebSettings.from_env(env)


def test_sse_frames_and_percentiles() -> None:
    frames, rest = parse_frames('event: token\ndata: {"text": "a"}\n\n: keep-alive\n\nevent: fin')
    assert frames == [("token", '{"text": "a"}')] and rest == "event: fin"
    assert pct([], 50) is None and pct([0.1, 0.2, 0.3], 50) == 200.0


def args(url: str, **kw) -> argparse.Namespace:
    base = {"url": url, "sessions": 4, "seconds": 2.0, "concurrency": 4, "think": 0.0, "timeout": 30.0,
            "endpoint": "api", "key": SITE_KEY, "api_key": API_KEY, "model": "fernhollow-assistant",
            "pid": None, "run_id": "t"}  # fmt: skip
    base.update(kw)
    return argparse.Namespace(**base)


@pytest.mark.parametrize("endpoint", ["api", "openai"])
def test_short_load_run_answers_everyone_without_mixing(server, endpoint: str) -> None:
    summary = asyncio.run(run(args(server.url, endpoint=endpoint)))
    assert summary["answered"] >= 4 and summary["lost"] == 0 and summary["mixed"] == 0
    assert summary["errors"] == 0 and summary["ttft_ms_p50"] is not None and summary["rss_mb_after"]


def test_load_run_counts_429_as_refusals(serve) -> None:
    srv = serve(test_settings(session_burst=1, session_rate_per_min=6))
    summary = asyncio.run(run(args(srv.url, seconds=1.5)))
    assert summary["rate_limited"] >= 1 and summary["answered"] >= 4
    assert summary["lost"] == 0 and summary["mixed"] == 0 and summary["errors"] == 0


def test_loadtest_cli_refuses_unbounded_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.web.loadtest", "--seconds", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "--seconds" in proc.stderr
