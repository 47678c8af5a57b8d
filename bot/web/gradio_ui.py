"""The Gradio chat for customers (mounted at `/`) and the staff view (mounted at `/staff` behind the staff
key, any user name): both stream the verified reply sentence by sentence, show the citations as an
expandable "Sources" block with links, offer example questions, retry, clear, thumbs up/down (stored with
the turn through `assistant.feedback`) and a "Talk to a person" button (`assistant.handoff`). Only the
staff view shows the sentiment, risk and intent badges and the recent handoffs; the customer page never
receives them. The only module besides app.py that imports gradio; rendering only, every decision is the
assistant's. Gradio's default layout is responsive and every control is a focusable button or textbox,
so a phone-sized screen and a keyboard are enough."""

from __future__ import annotations

import hmac
import html
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import gradio as gr
from fastapi import FastAPI

from .security import RateLimiter
from .settings import WebSettings

log = logging.getLogger("bot.web.gradio")
EXAMPLES = [
    "What is the daily ATM withdrawal limit on a debit card?",
    "How do I freeze a lost card?",
    "What is the monthly fee on Everyday Checking?",
    "How long does an international wire take?",
]
CSS = """
.gradio-container { max-width: 920px !important; margin: 0 auto !important; }
#fh-chat { height: min(62vh, 640px) !important; }
.fh-badges { display: flex; flex-wrap: wrap; gap: 6px; }
.fh-badge { border-radius: 999px; padding: 2px 10px; font-size: 0.85em; border: 1px solid #8884; }
.fh-neg, .fh-high { background: #fde2e1; color: #8a1c13; }
.fh-pos, .fh-low { background: #dff5e3; color: #1d5e2b; }
.fh-neu, .fh-medium { background: #fff3cd; color: #6b5200; }
@media (max-width: 600px) { #fh-chat { height: 58vh !important; } .fh-actions button { min-width: 0 !important; } }
"""
SLOW_DOWN = "You're sending messages quickly. Please wait {secs} seconds and try again."
Outputs = tuple[Any, ...]


def _text(content: Any) -> str:
    """The text of a Chatbot message's content (a string, or Gradio's normalized list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def sources_markdown(sources: list[dict]) -> str:
    lines = []
    for s in sources:
        label = " — ".join(x for x in (s.get("title"), s.get("section")) if x)
        url = str(s.get("url") or "")
        link = f"[{label}]({url})" if url.startswith(("https://", "http://")) else label
        lines.append(f"{s.get('n')}. {link}")
    return "\n".join(lines)


def badges_html(tools: dict[str, Any], final: dict | None) -> str:
    if not tools:
        return '<div class="fh-badges" role="status">No turn yet.</div>'
    cls = {"negative": "fh-neg", "positive": "fh-pos", "neutral": "fh-neu"}
    sent, risk, intent = (
        tools.get("sentiment") or {},
        tools.get("risk") or {},
        tools.get("banking_intent") or {},
    )
    parts = []
    if sent:
        c = cls.get(sent.get("label", ""), "")
        parts.append(
            f'<span class="fh-badge {c}">Sentiment: {sent.get("label")} {sent.get("score", 0):.2f}</span>'
        )
    if risk:
        lvl = html.escape(str(risk.get("level", "")))
        parts.append(
            f'<span class="fh-badge fh-{lvl}">Risk: {html.escape(str(risk.get("category")))} · {lvl} '
            f"{risk.get('probability', 0):.2f}</span>"
        )
    if intent:
        parts.append(f'<span class="fh-badge">Intent: {html.escape(str(intent.get("intent")))}</span>')
    if final:
        parts.append(
            f'<span class="fh-badge">Route: {html.escape(str(final.get("route")))} · {final.get("status")}</span>'
        )
    return f'<div class="fh-badges" role="status" aria-label="Signals of the last message">{"".join(parts)}</div>'


class ChatHandlers:
    """The event handlers, plain Python so tests can call them without a browser."""

    def __init__(self, assistant: Any, limits: dict[str, RateLimiter] | None, staff: bool) -> None:
        self.assistant, self.limits, self.staff = assistant, limits or {}, staff

    def _out(
        self, history: list, box: str, session: str, turns: dict, tools: dict, final: dict | None
    ) -> Outputs:
        base = (history, box, session, turns)
        return (*base, badges_html(tools, final)) if self.staff else base

    def _limited(self, session: str, request: gr.Request | None) -> int:
        ip = request.client.host if request is not None and request.client else "gradio"
        for key, limiter in (("ip", f"ip:{ip}"), ("session", session)):
            if key in self.limits:
                wait = self.limits[key].take(limiter)
                if wait > 0:
                    return max(1, round(wait + 0.5))
        return 0

    def respond(
        self, message: str, history: list | None, session: str | None, turns: dict | None, request: gr.Request
    ) -> Iterator[Outputs]:
        message, history, turns = (message or "").strip(), list(history or []), dict(turns or {})
        session = session or uuid.uuid4().hex
        if not message:
            yield self._out(history, "", session, turns, {}, None)
            return
        history.append({"role": "user", "content": message})
        secs = self._limited(session, request)
        if secs:
            history.append({"role": "assistant", "content": SLOW_DOWN.format(secs=secs)})
            yield self._out(history, message, session, turns, {}, None)
            return
        yield self._out(history, "", session, turns, {}, None)
        text, tools, sources, final, offered = "", {}, [], None, False
        for ev in self.assistant.respond(session, message, channel="gradio"):
            kind = ev["type"]
            if kind == "token":
                text = f"{text} {ev['text']}".strip()
                if history[-1]["role"] == "user":
                    history.append({"role": "assistant", "content": text})
                history[-1] = {"role": "assistant", "content": text}
                yield self._out(history, "", session, turns, tools, final)
            elif kind == "tool":
                tools[ev["name"]] = ev["output"]
            elif kind == "citations":
                sources = ev["sources"]
            elif kind == "handoff":
                offered = bool(ev.get("offered")) and ev.get("ticket") is None
            elif kind == "final":
                final = ev
        if history[-1]["role"] == "user":
            history.append({"role": "assistant", "content": (final or {}).get("text") or "…"})
        turn_id = (final or {}).get("turn_id")
        turns[len(history) - 1] = turn_id
        if sources:
            title = f"Sources ({len(sources)})"
            history.append(
                {
                    "role": "assistant",
                    "content": sources_markdown(sources),
                    "metadata": {"title": title, "status": "done"},
                }
            )
            turns[len(history) - 1] = turn_id
        if offered:
            history.append(
                {
                    "role": "assistant",
                    "content": "Press **Talk to a person** below and a colleague will pick this up.",
                }
            )
        yield self._out(history, "", session, turns, tools, final)

    def retry(
        self, history: list | None, session: str | None, turns: dict | None, request: gr.Request
    ) -> Iterator[Outputs]:
        history = list(history or [])
        last = max((i for i, m in enumerate(history) if m.get("role") == "user"), default=None)
        if last is None:
            yield self._out(history, "", session or uuid.uuid4().hex, dict(turns or {}), {}, None)
            return
        text = _text(history[last]["content"])
        yield from self.respond(text, history[:last], session, turns, request)

    def clear(self, session: str | None) -> Outputs:
        if session:
            self.assistant.reset(session)
        return self._out([], "", uuid.uuid4().hex, {}, {}, None)

    def handoff(self, history: list | None, session: str | None) -> tuple[list, str]:
        history, session = list(history or []), session or uuid.uuid4().hex
        result = self.assistant.handoff(session, reason="customer pressed 'Talk to a person' (web chat)")
        history += [
            {"role": "user", "content": "Talk to a person"},
            {"role": "assistant", "content": result["text"]},
        ]
        return history, session

    def feedback(self, turns: dict | None, like: gr.LikeData) -> None:
        turn_id = (turns or {}).get(like.index if isinstance(like.index, int) else like.index[0])
        if not turn_id or like.liked not in (True, False):
            return
        try:
            self.assistant.feedback(turn_id, 1 if like.liked else -1, "")
            gr.Info("Thank you for your feedback.")
        except Exception as exc:  # no database, unknown turn: say so, keep the chat going
            log.warning("feedback for turn %s not stored: %s", turn_id, exc)
            gr.Warning("Your feedback could not be saved.")


def recent_handoffs(assistant: Any, limit: int = 20) -> str:
    if assistant.store is None:
        return "Recording is off: no handoffs are stored."
    rows = assistant.store.handoffs()[-limit:]
    if not rows:
        return "No handoffs yet."
    lines = ["| # | session | priority | reason | created |", "|---|---|---|---|---|"]
    for h in reversed(rows):
        reason = str(h.reason).replace("|", "/")
        lines.append(
            f"| {h.id} | `{h.session_id[:12]}` | {h.priority} | {reason} | {getattr(h, 'created_at', '')} |"
        )
    return "\n".join(lines)


def build_blocks(
    assistant: Any, settings: WebSettings, *, staff: bool = False, limits: dict | None = None
) -> gr.Blocks:
    h = ChatHandlers(assistant, limits, staff)
    title = "Fernhollow Bank assistant" + (" — staff view" if staff else "")
    with gr.Blocks(title=title, analytics_enabled=False) as demo:  # no telemetry from a bank
        gr.Markdown(
            f"# {title}\nAnswers come from Fernhollow Bank's help pages, with sources. "
            "Never type your full card number, PIN or passwords."
        )
        session = gr.State("")
        turns = gr.State({})
        badges = gr.HTML(badges_html({}, None), label="Signals", visible=staff) if staff else None
        chatbot = gr.Chatbot(
            elem_id="fh-chat",
            label="Conversation",
            examples=[{"text": q} for q in EXAMPLES],
            latex_delimiters=[],
            buttons=["copy"],
            placeholder="Ask about accounts, cards, loans, transfers…",
            autoscroll=True,
        )
        with gr.Row(equal_height=True):
            box = gr.Textbox(
                label="Your message", show_label=False, placeholder="Type your question and press Enter", scale=5,
                max_lines=4, autofocus=True, submit_btn=False, elem_id="fh-input",
            )  # fmt: skip
            send = gr.Button("Send", variant="primary", scale=1, min_width=80, elem_id="fh-send")
        with gr.Row(elem_classes=["fh-actions"]):
            retry = gr.Button("Retry", size="sm", min_width=60)
            clear = gr.Button("Clear", size="sm", min_width=60)
            person = gr.Button("Talk to a person", size="sm", min_width=120, elem_id="fh-person")
        outputs = [chatbot, box, session, turns] + ([badges] if badges is not None else [])
        run = {  # one shared limit for every event that runs a turn
            "outputs": outputs,
            "concurrency_limit": settings.max_concurrent_turns,
            "concurrency_id": "fh-turn",
        }
        inputs = [box, chatbot, session, turns]
        box.submit(h.respond, inputs, api_name="chat", **run)
        send.click(h.respond, inputs, api_visibility="private", **run)
        retry.click(h.retry, [chatbot, session, turns], api_name="retry", **run)
        chatbot.retry(h.retry, [chatbot, session, turns], api_visibility="private", **run)
        chatbot.example_select(_example_text, None, box, api_visibility="private", queue=False).then(
            h.respond, inputs, api_visibility="private", **run
        )
        clear.click(h.clear, [session], outputs, api_name="clear")
        chatbot.clear(h.clear, [session], outputs, api_visibility="private")
        person.click(h.handoff, [chatbot, session], [chatbot, session], api_name="handoff")
        chatbot.like(h.feedback, [turns], None, api_visibility="private")
        if staff:
            with gr.Accordion("Recent handoffs", open=False):
                table = gr.Markdown(recent_handoffs(assistant))
                refresh = gr.Button("Refresh handoffs", size="sm")
                refresh.click(lambda: recent_handoffs(assistant), None, table, api_name="handoffs")
    return demo


def _example_text(ev: gr.SelectData) -> str:
    return ev.value["text"] if isinstance(ev.value, dict) else str(ev.value)


def mount_gradio(app: FastAPI, assistant: Any, settings: WebSettings) -> FastAPI:
    """Mount the staff view (when a staff key is set) and the customer chat on `app`."""
    limits = getattr(app.state, "limits", None)
    common = {"css": CSS, "footer_links": [], "run_history": False, "show_error": False}
    if settings.staff_key:
        key = settings.staff_key

        def staff_auth(_user: str, password: str) -> bool:
            return hmac.compare_digest(password.encode(), key.encode())

        staff = build_blocks(assistant, settings, staff=True, limits=limits)
        gr.mount_gradio_app(app, staff, path=settings.staff_path, auth=staff_auth, **common)
    customer = build_blocks(assistant, settings, staff=False, limits=limits)
    gr.mount_gradio_app(app, customer, path=settings.gradio_path, **common)
    return app
