"""`python -m bot.web.loadtest --sessions 50 --seconds 120 --url http://127.0.0.1:8000`: a bounded load
generator for the widget's streaming endpoint (`/api/chat`, or `--endpoint openai` for streamed
/v1/chat/completions) on loopback. Each simulated customer has its own session id and asks its questions
one after another; every reply is checked for being its own (the final event's session id is the
session's, and the streamed tokens join to the final text), so answers mixed between sessions are caught.

Counts answered / refused with 429 / errors / lost (no final event: connection dropped or timed out),
measures time to first token (p50/p95), and reads the server's memory (`rss_bytes` of /healthz, or
`--pid` with psutil) before and after. Stops by itself after `--seconds` (plus at most one request
timeout). It sends traffic only where --url points: use it on loopback, never at someone else's server."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

QUESTIONS = [
    "What is the daily ATM withdrawal limit on a debit card?",
    "How do I freeze a lost card?",
    "What is the monthly fee on Everyday Checking?",
    "How long does an international wire take?",
    "What interest does the savings account pay?",
    "How do I dispute a card transaction?",
    "What are the cut-off times for transfers?",
    "How do I order a replacement card?",
]


@dataclass
class Tally:
    sent: int = 0
    answered: int = 0
    rate_limited: int = 0
    errors: int = 0
    lost: int = 0
    mixed: int = 0
    ttft_s: list[float] = field(default_factory=list)
    total_s: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what[:200])


def parse_frames(buffer: str) -> tuple[list[tuple[str, str]], str]:
    """Complete SSE frames in `buffer` as (event, data), and the incomplete rest."""
    frames = []
    while "\n\n" in buffer:
        block, buffer = buffer.split("\n\n", 1)
        event, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            frames.append((event, "\n".join(data)))
    return frames, buffer


async def one_turn(
    client: httpx.AsyncClient, args: argparse.Namespace, session: str, text: str, tally: Tally
) -> float:
    """Send one message and check the streamed reply. Returns how long to wait before the next one."""
    if args.endpoint == "openai":
        url, headers = "/v1/chat/completions", {"X-Session-Id": session}
        if args.api_key:
            headers["Authorization"] = f"Bearer {args.api_key}"
        body: dict[str, Any] = {
            "model": args.model,
            "messages": [{"role": "user", "content": text}],
            "stream": True,
        }
    else:
        url, headers = "/api/chat", {"X-Widget-Key": args.key}
        body = {"message": text, "session_id": session}
    tally.sent += 1
    start = time.perf_counter()
    first: float | None = None
    tokens: list[str] = []
    final: dict | None = None
    try:
        async with client.stream("POST", url, json=body, headers=headers) as r:
            if r.status_code == 429:
                tally.rate_limited += 1
                await r.aread()
                return float(r.headers.get("retry-after", "1"))
            if r.status_code != 200:
                tally.error(f"HTTP {r.status_code}: {(await r.aread())[:150]!r}")
                return 1.0
            buffer = ""
            async for chunk in r.aiter_text():
                buffer += chunk
                frames, buffer = parse_frames(buffer)
                for event, data in frames:
                    if data == "[DONE]":
                        continue
                    payload = json.loads(data)
                    piece, final_now = _piece(args.endpoint, event, payload)
                    if piece:
                        first = first if first is not None else time.perf_counter() - start
                        tokens.append(piece)
                    if final_now is not None:
                        final = final_now
                    if event == "error" or "error" in payload:
                        tally.error(f"stream error: {data[:150]}")
                        return 1.0
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        tally.lost += 1
        if len(tally.error_samples) < 5:
            tally.error_samples.append(f"lost: {type(exc).__name__}")
        return 1.0
    if final is None:
        tally.lost += 1
        return 1.0
    joined = (" " if args.endpoint != "openai" else "").join(tokens)
    if final.get("session_id") != session or (
        final.get("text") is not None and joined.strip() != final["text"].strip()
    ):
        tally.mixed += 1
        return 0.0
    tally.answered += 1
    tally.total_s.append(time.perf_counter() - start)
    if first is not None:
        tally.ttft_s.append(first)
    return 0.0


def _piece(endpoint: str, event: str, payload: dict) -> tuple[str | None, dict | None]:
    if endpoint == "openai":
        choices = payload.get("choices") or [{}]
        delta = choices[0].get("delta") or {}
        extra = payload.get("fernhollow")
        return delta.get("content") or None, ({**extra, "text": None} if extra else None)
    if event == "token":
        return payload["text"], None
    if event == "final":
        return None, payload
    return None, None


async def customer(
    i: int,
    args: argparse.Namespace,
    client: httpx.AsyncClient,
    gate: asyncio.Semaphore,
    deadline: float,
    tally: Tally,
) -> None:
    session = f"load-{args.run_id}-{i}"
    n = 0
    while time.monotonic() < deadline:
        text = QUESTIONS[(i + n) % len(QUESTIONS)]
        n += 1
        async with gate:
            if time.monotonic() >= deadline:
                return
            wait = await one_turn(client, args, session, text, tally)
        await asyncio.sleep(min(max(wait, args.think), max(0.0, deadline - time.monotonic())))


async def memory(client: httpx.AsyncClient, pid: int | None) -> int | None:
    if pid:
        import psutil

        return psutil.Process(pid).memory_info().rss
    try:
        return int((await client.get("/healthz")).json()["rss_bytes"])
    except Exception:
        return None


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0] * 1000, 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000, 1)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(
        max_connections=args.concurrency + 4, max_keepalive_connections=args.concurrency + 4
    )
    timeout = httpx.Timeout(args.timeout, connect=10)
    async with httpx.AsyncClient(base_url=args.url, timeout=timeout, limits=limits) as client:
        rss_before = await memory(client, args.pid)
        tally, gate = Tally(), asyncio.Semaphore(args.concurrency)
        t0 = time.monotonic()
        deadline = t0 + args.seconds
        await asyncio.gather(
            *(customer(i, args, client, gate, deadline, tally) for i in range(args.sessions))
        )
        elapsed = time.monotonic() - t0
        await asyncio.sleep(1.0)
        rss_after = await memory(client, args.pid)
    d = asdict(tally)
    ttft, total = d.pop("ttft_s"), d.pop("total_s")
    return {
        "url": args.url,
        "endpoint": args.endpoint,
        "sessions": args.sessions,
        "concurrency": args.concurrency,
        "seconds": round(elapsed, 1),
        **d,
        "error_rate": round((tally.errors + tally.lost + tally.mixed) / tally.sent, 4) if tally.sent else 0.0,
        "answered_per_s": round(tally.answered / elapsed, 2) if elapsed else 0.0,
        "ttft_ms_p50": pct(ttft, 50),
        "ttft_ms_p95": pct(ttft, 95),
        "total_ms_p50": pct(total, 50),
        "total_ms_p95": pct(total, 95),
        "rss_mb_before": round(rss_before / 2**20, 1) if rss_before else None,
        "rss_mb_after": round(rss_after / 2**20, 1) if rss_after else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bot.web.loadtest", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8000", help="server base URL (loopback)")
    p.add_argument("--sessions", type=int, default=50, help="simulated customers, each with its own session")
    p.add_argument("--seconds", type=float, default=120.0, help="how long to send new messages")
    p.add_argument("--concurrency", type=int, help="most requests in flight at once (default: --sessions)")
    p.add_argument("--think", type=float, default=0.0, help="pause between a session's messages, seconds")
    p.add_argument("--timeout", type=float, default=120.0, help="per-request timeout, seconds")
    p.add_argument("--endpoint", choices=["api", "openai"], default="api")
    p.add_argument(
        "--key", default=os.environ.get("BOT_LOADTEST_KEY", "demo-site-key"), help="widget site key"
    )
    p.add_argument("--api-key", default=os.environ.get("BOT_LOADTEST_API_KEY"), help="bearer key for /v1")
    p.add_argument("--model", default="fernhollow-assistant")
    p.add_argument("--pid", type=int, help="server process to read memory from (default: /healthz rss_bytes)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = p.parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0 or args.seconds > 3600:
        p.error("--sessions must be >= 1 and --seconds within (0, 3600]")
    args.concurrency = max(1, min(args.concurrency or args.sessions, args.sessions))
    args.run_id = os.urandom(3).hex()
    summary = asyncio.run(run(args))
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        width = max(len(k) for k in summary)
        for k, v in summary.items():
            print(f"{k:<{width}}  {v}")
    return 0 if summary["lost"] == 0 and summary["mixed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
