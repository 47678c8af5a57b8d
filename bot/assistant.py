"""The assistant: one object a front end calls. `respond(session_id, text)` runs a turn and yields stream
events; `handoff(session_id)` and `feedback(turn_id, rating)` serve the buttons.

A turn: the pre-generation steps of bot/steps.py composed as a LangChain runnable sequence (input guard ->
classifier tools -> policy -> follow-up rewrite -> retrieval -> prompt), then the reply (bot/reply.py):
generation streamed through the output guard sentence by sentence (only verified sentences reach the
customer), a cited extract of the best passage when nothing verified remains or the model is down, or the
passage sentences the reply stops short of; then the policy's text around it (a scripted route's quoted steps
before the answer, its citations numbered first), and the record (masked) in the database. Events are plain
dicts:

    {"type": "tool", "name": "risk", "output": {...}}
    {"type": "token", "text": "..."}                  verified reply text, in order
    {"type": "citations", "sources": [{"n", "title", "section", "url", "doc_id", "score", "text"}]}
    {"type": "handoff", "offered": bool, "ticket": int | None, "reason": str}
    {"type": "final", "text", "turn_id", "session_id", "route", "status", "timings_ms", "guard"}

It does not render anything (the CLI and the web layer do) and holds no per-request state on self other
than the bounded per-session memory.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from langchain_core.runnables import RunnableLambda

from knowledge import tokenize

from .config import BotConfig
from .extractive import CachedEncoder
from .guards.grounding import citations
from .guards.pii import contact_allowlist, mask_pii
from .policy_text import CONTACT_QUERY, EMPATHY, HANDOFF_CREATED, NEGATIVE_HANDOFF
from .prompts import HANDOFF_OFFER, passage_body
from .reply import ReplyWriter
from .safety import merge_sources, quote, renumber
from .sentence_ranker import ranker_for
from .steps import (
    TERMINAL,
    TurnState,
    classify_step,
    input_guard_step,
    policy_step,
    prompt_step,
    retrieve_step,
    rewrite_step,
)

log = logging.getLogger("bot.assistant")
MAX_SESSIONS_IN_MEMORY = 10_000


@dataclass
class Parts:
    kb: Any
    classifiers: Any
    backend: Any
    store: Any = None  # bot.storage.Store or None (nothing recorded)


def repeats(sentence: str, said: str, share: float = 0.8) -> bool:
    """At least `share` of the sentence's words (citations aside) are already in `said`."""
    words = set(tokenize(re.sub(r"\[\d+\]", " ", sentence)))
    return bool(words) and len(words & set(tokenize(said))) >= share * len(words)


def _src(n: int, p, text: bool = False) -> dict:
    d = {"n": n, "title": p.title, "section": p.section, "url": p.url, "doc_id": p.doc_id, "score": p.score}
    if text:
        d["text"] = passage_body(p.text)
    return d


class Assistant:
    def __init__(self, parts: Parts, cfg: BotConfig | None = None) -> None:
        from .tools import make_tools

        self.cfg = cfg or BotConfig.from_env()
        self.kb, self.classifiers, self.backend, self.store = (
            parts.kb,
            parts.classifiers,
            parts.backend,
            parts.store,
        )
        self.tools = {t.name: t for t in make_tools(self.classifiers)}
        # The sentence ranker's encoder (prompt focus and extract): the knowledge base's embedder, with the
        # library's sentences remembered across turns, with their token vectors for the learned ranker.
        self._encode = CachedEncoder(
            self.kb.embedder.encode, encode_with_tokens=getattr(self.kb.embedder, "encode_with_tokens", None)
        )
        self.memory: OrderedDict[str, deque] = OrderedDict()
        self.sentiments: dict[str, deque] = {}
        self.lock = threading.Lock()
        self.allow = contact_allowlist(
            p.text
            for doc in ("contact-us", "lost-or-stolen-cards")
            for p in self.kb.search_document(doc, "phone email", k=8)
        )
        # Completion and the fallback extract rank for the question as retrieval sees it (query adapter);
        # the prompt's focus keeps the raw embedding the model was trained with.
        self.writer = ReplyWriter(
            self.backend,
            self._encode,
            self.kb.query_view,
            self._contact,
            self.allow,
            max_new_tokens=self.cfg.max_new_tokens,
            copy_bias=self.cfg.copy_bias,
            ranker=ranker_for(self.cfg.sentence_ranker),
        )
        self.chain = (
            RunnableLambda(partial(input_guard_step, max_chars=self.cfg.max_input_chars), name="input_guard")
            | RunnableLambda(partial(classify_step, classifiers=self.classifiers, tools=self.tools), name="classify")
            | RunnableLambda(partial(policy_step, kb=self.kb), name="policy")
            | RunnableLambda(rewrite_step, name="rewrite")
            | RunnableLambda(
                partial(retrieve_step, kb=self.kb, classifiers=self.classifiers, k=self.cfg.passages), name="retrieve"
            )
            | RunnableLambda(
                partial(
                    prompt_step,
                    backend=self.backend,
                    max_new_tokens=self.cfg.max_new_tokens,
                    history_turns=self.cfg.history_turns,
                    encode=self._encode,
                    focus=self.cfg.focus_sentences,
                ),
                name="prompt",
            )
        )  # fmt: skip

    # -- memory ------------------------------------------------------------------------------------
    def _history(self, session_id: str) -> deque:
        with self.lock:
            if session_id in self.memory:
                self.memory.move_to_end(session_id)
                return self.memory[session_id]
        past: list[tuple[str, str]] = []
        if self.store is not None:
            try:
                past = self.store.history(session_id, limit=self.cfg.history_turns)
            except Exception as exc:  # database down: carry on without the old history
                log.error("cannot load history of %s: %s", session_id, exc)
        with self.lock:
            hist = self.memory.setdefault(session_id, deque(past, maxlen=max(1, self.cfg.history_turns)))
            self.sentiments.setdefault(session_id, deque(maxlen=4))
            while len(self.memory) > MAX_SESSIONS_IN_MEMORY:
                old, _ = self.memory.popitem(last=False)
                self.sentiments.pop(old, None)
        return hist

    def reset(self, session_id: str) -> None:
        with self.lock:
            self.memory.pop(session_id, None)
            self.sentiments.pop(session_id, None)

    # -- the turn ----------------------------------------------------------------------------------
    def respond(self, session_id: str | None, text: Any, channel: str | None = None) -> Iterator[dict]:
        """One turn as stream events. `channel` (cli, widget, openai, gradio, ...) is recorded with the
        session; None means the configured default (BOT_CHANNEL)."""
        session_id = (str(session_id).strip()[:64] if session_id else "") or uuid.uuid4().hex
        t_start = time.perf_counter()
        hist = self._history(session_id)
        state = TurnState(
            session_id,
            text,
            history=list(hist),
            recent_sentiments=list(self.sentiments[session_id]),
            channel=(channel or self.cfg.channel)[:32],
        )
        state = self.chain.invoke(state)
        for name, out in state.tool_outputs.items():
            yield {"type": "tool", "name": name, "output": out}
        guard: dict[str, Any] = {"notes": state.notes}
        pieces: list[str] = []

        def emit(text: str) -> dict:
            pieces.append(text)
            return {"type": "token", "text": text}

        if state.route == "handoff":
            yield from self._handoff_turn(state)
            yield emit(state.reply)
        elif state.route in TERMINAL:
            yield emit(state.reply)
        elif state.script:
            # The scripted route first (quoted, cited [1..]), then the answer to what was asked, its
            # citations renumbered after the script's; sentences the script already says are left out.
            yield emit(state.script)
            merged, mapping = merge_sources(state.script_passages, state.passages)
            for text in self.writer.stream(state, guard, scripted=True):
                if not repeats(text, state.script):
                    yield emit(renumber(text, mapping))
            state.passages, state.route = merged, "safety"
            for text in state.suffix:
                yield emit(text)
        else:
            if state.signals is not None and state.signals.sentiment.label == "negative":
                yield emit(EMPATHY)
            for text in self.writer.stream(state, guard):
                yield emit(text)
            tail = list(state.suffix)
            last_two = [*state.recent_sentiments, state.signals.sentiment.label if state.signals else ""][-2:]
            if last_two == ["negative", "negative"] and HANDOFF_OFFER not in tail:
                tail.append(NEGATIVE_HANDOFF)
            for text in tail:
                yield emit(text)
        reply = " ".join(p for p in pieces if p)
        if state.passages and citations(reply):
            sources = [_src(n, p, text=True) for n, p in enumerate(state.passages, 1)]
            yield {"type": "citations", "sources": sources}
        offered = HANDOFF_OFFER in reply or NEGATIVE_HANDOFF in reply
        if state.route != "handoff":
            yield {
                "type": "handoff",
                "offered": offered,
                "ticket": None,
                "reason": self._handoff_reason(state),
            }
        state.timings_ms["total"] = round((time.perf_counter() - t_start) * 1e3, 2)
        turn_id = self._record(state, reply, guard)
        with self.lock:
            hist.append((state.text or "", reply))
            if state.signals is not None:
                self.sentiments[session_id].append(state.signals.sentiment.label)
        yield {
            "type": "final",
            "text": reply,
            "turn_id": turn_id,
            "session_id": session_id,
            "route": state.route,
            "status": state.status,
            "timings_ms": state.timings_ms,
            "guard": guard,
        }

    def _handoff_reason(self, state: TurnState) -> str:
        return "; ".join(state.decision.reasons) if state.decision and state.decision.reasons else ""

    def _handoff_turn(self, state: TurnState) -> Iterator[dict]:
        ticket = self._create_ticket(state.session_id, "customer asked for a person", state)
        state.reply, state.passages = self._handoff_text(ticket)
        yield {"type": "handoff", "offered": True, "ticket": ticket, "reason": "customer asked for a person"}

    def _create_ticket(self, session_id: str, reason: str, state: TurnState | None = None) -> int | None:
        if self.store is None:
            return None
        hist = list(self._history(session_id))
        lines = [f"customer: {u}" for u, _ in hist[-4:]]
        if state is not None and state.text:
            lines.append(f"customer: {state.text}")
        summary = mask_pii("\n".join(lines) or "(no messages)").text
        priority = (
            "urgent"
            if state is not None and state.signals is not None and state.signals.risk.level == "high"
            else "normal"
        )
        try:
            return self.store.create_handoff(session_id, reason, summary, priority)
        except Exception as exc:
            log.error("handoff for %s not stored: %s", session_id, exc)
            return None

    def handoff(self, session_id: str, reason: str = "customer pressed 'talk to a person'") -> dict:
        """Create a handoff ticket for the session (the UI's button, the CLI's /handoff)."""
        ticket = self._create_ticket(session_id, reason)
        text, passages = self._handoff_text(ticket)
        return {
            "type": "handoff",
            "offered": True,
            "ticket": ticket,
            "reason": reason,
            "text": text,
            "sources": [_src(n, p) for n, p in enumerate(passages, 1)],
        }

    def _contact(self):
        """How to reach customer service, quoted and cited from the contact page."""
        return quote(self.kb, *CONTACT_QUERY, max_sentences=1)

    def _handoff_text(self, ticket: int | None) -> tuple[str, list]:
        contact = self._contact()
        ref = f"#{ticket}" if ticket is not None else "pending"
        return " ".join([HANDOFF_CREATED.format(ref=ref), contact.text]), contact.passages

    def feedback(self, turn_id: int, rating: int, comment: str = "") -> int:
        if self.store is None:
            raise RuntimeError("feedback needs a database (BOT_RECORD=true)")
        return self.store.add_feedback(turn_id, rating, mask_pii(comment[:2000]).text)

    def _record(self, state: TurnState, reply: str, guard: dict) -> int | None:
        if self.store is None or not self.cfg.record:
            return None
        from .storage import TurnRecord

        sig = state.signals
        cited = set(citations(reply))
        rec = TurnRecord(
            session_id=state.session_id,
            user_text=state.text or "",
            reply_text=mask_pii(reply, allow=self.allow).text,
            status=state.status,
            channel=state.channel,
            risk_category=sig.risk.category if sig else None,
            risk_level=sig.risk.level if sig else None,
            sentiment=sig.sentiment.label if sig else None,
            intent=sig.intent.intent if sig and sig.intent else None,
            answerable=state.route not in {"dont_know"},
            pii_counts=state.guarded.pii_counts if state.guarded else {},
            timings_ms=state.timings_ms,
            guard={**guard, "route": state.route},
            tool_results=state.tool_outputs,
            citations=[_src(n, p) for n, p in enumerate(state.passages, 1) if n in cited],
        )
        t0 = time.perf_counter()
        turn_id = self.store.record_turn(rec)
        state.timings_ms["record"] = round((time.perf_counter() - t0) * 1e3, 2)
        if turn_id is None:
            guard["record_error"] = self.store.last_error
        return turn_id
