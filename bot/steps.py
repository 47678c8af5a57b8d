"""The steps of one turn before generation, each a named function from TurnState to TurnState, composed
with LangChain runnables in bot/assistant.py:

    input_guard -> classify (tools) -> policy -> rewrite -> retrieve -> prompt

A step that settles the reply (an empty message, an injection attempt, a high-risk safety script for a
message that asks nothing, a question the documents cannot answer) sets `state.route` and the later steps
pass the state through. A scripted route for a message that asks something keeps the script in
`state.script` and goes on, so the reply answers the question after the script.
Generation, the output guard and recording are in bot/assistant.py because they stream.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from .extractive import focus_passages
from .guards.input_guard import GuardedInput, guard_input
from .policy import PolicyDecision, decide
from .policy_text import (
    ACCOUNT_QUERY,
    ADVICE_DISCLAIMER,
    BINARY_REPLY,
    CONTACT_QUERY,
    EMPTY_REPLY,
    INJECTION_REPLY,
    NO_ACCOUNT_ACCESS,
    OTHER_INSTITUTION,
    OUT_OF_SCOPE,
    SAFETY_CHECK_INS,
    SAFETY_INTROS,
    SAFETY_QUERIES,
    TOO_LONG_REPLY,
)
from .prompts import DONT_KNOW, FOCUS_SENTENCES, HANDOFF_OFFER, build_messages
from .question_scope import account_state_question, asks_question, other_institution
from .rewrite import rewrite
from .safety import quote

HUMAN_REQUEST = re.compile(
    r"\b(talk|speak|chat|connect me|put me through)\b[^.?!]{0,25}\b(human|person|agent|someone|somebody|"
    r"representative|advisor|adviser|staff|operator|real person|member of (your )?staff|team member)\b"
    r"|\b(human|agent|representative|operator)\s*(please|pls|now)\b|^\s*(agent|human|operator)\s*[.!?]*\s*$",
    re.IGNORECASE,
)

TERMINAL = {"rejected", "refused", "safety", "dont_know", "handoff"}


@dataclass
class TurnState:
    session_id: str
    raw: Any
    channel: str = "cli"  # where the turn came from: cli, widget, openai, gradio
    history: list[tuple[str, str]] = field(default_factory=list)  # (user, reply), masked, oldest first
    recent_sentiments: list[str] = field(default_factory=list)
    guarded: GuardedInput | None = None
    signals: Any = None  # bot.classifiers.TurnSignals
    tool_outputs: dict[str, dict] = field(default_factory=dict)
    decision: PolicyDecision | None = None
    wants_human: bool = False
    query: str = ""
    retrieval: Any = None  # knowledge.RetrievalResult
    passages: list = field(default_factory=list)  # knowledge.Passage, numbered from 1
    messages: list[dict] = field(default_factory=list)
    route: str = "answer"  # answer | rejected | refused | safety | dont_know | handoff
    suffix: list[str] = field(default_factory=list)  # policy text after the answer
    script: str = ""  # quoted policy text before the answer (safety steps, support line, complaints route)
    script_passages: list = field(default_factory=list)  # the passages the script cites, numbered from 1
    reply: str = ""  # the settled reply for terminal routes
    status: str = "ok"
    timings_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.guarded.text if self.guarded else ""

    def settle(self, route: str, reply: str, status: str = "ok") -> None:
        self.route, self.reply, self.status = route, reply, status


def _timed(state: TurnState, name: str, t0: float) -> None:
    state.timings_ms[name] = round((time.perf_counter() - t0) * 1e3, 2)


def input_guard_step(state: TurnState, *, max_chars: int) -> TurnState:
    t0 = time.perf_counter()
    g = guard_input(state.raw, max_chars)
    state.guarded = g
    if g.rejected == "empty":
        state.settle("rejected", EMPTY_REPLY, "rejected")
    elif g.rejected == "too_long":
        state.settle("rejected", TOO_LONG_REPLY.format(n=g.received_chars, limit=max_chars), "rejected")
    elif g.rejected == "binary":
        state.settle("rejected", BINARY_REPLY, "rejected")
    elif g.injection.flagged:
        state.settle("refused", INJECTION_REPLY, "refused")
        state.notes.append("injection: " + ",".join(g.injection.kinds))
    _timed(state, "guard", t0)
    return state


def classify_step(state: TurnState, *, classifiers, tools: dict) -> TurnState:
    """Call the sentiment, risk and intent tools (LangChain tools; one shared embedding)."""
    if state.route == "rejected" or not state.text:
        return state
    t0 = time.perf_counter()
    text = state.text[:20_000]
    for name in ("sentiment", "risk", "banking_intent"):
        state.tool_outputs[name] = tools[name].invoke({"text": text})
    state.signals = classifiers.classify(text)  # cached embedding: no second encode
    _timed(state, "classify", t0)
    return state


def policy_step(state: TurnState, *, kb) -> TurnState:
    if state.route in TERMINAL or state.signals is None:
        return state
    t0 = time.perf_counter()
    asks = asks_question(state.text)
    d = decide(state.signals, state.recent_sentiments, asks=asks)
    state.decision = d
    state.wants_human = bool(HUMAN_REQUEST.search(state.text))
    if state.wants_human:
        state.settle("handoff", "")
    elif d.scripted and state.signals.risk.category in SAFETY_QUERIES:
        # The documented route, quoted: safety steps for high risk; the support line for hardship; the
        # complaints route for complaints. A person is offered. A question is answered after the script
        # (of 284 answerable bot/eval questions, 40 took this route and the script alone held the asked
        # fact for 7), unless it is about the customer's own account or another bank.
        category = state.signals.risk.category
        doc, query = SAFETY_QUERIES[category]
        q = quote(kb, doc, query)
        script = " ".join(p for p in (SAFETY_INTROS[category], q.text) if p)
        if asks and not account_state_question(state.text) and not other_institution(state.text):
            state.script, state.script_passages = script, q.passages
            state.suffix.append(HANDOFF_OFFER)
            state.notes.append(f"{category} script, then the answer")
        else:
            state.passages = q.passages
            state.settle("safety", f"{script} {HANDOFF_OFFER}")
    elif not d.safety_doc and (
        (other := other_institution(state.text)) is not None or account_state_question(state.text)
    ):
        # The documents cannot answer it, whatever retrieval matches (bot/question_scope.py).
        reason = NO_ACCOUNT_ACCESS if other is None else OTHER_INSTITUTION.format(name=other)
        state.notes.append("other institution" if other else "asks about the customer's own account")
        _dont_know(state, kb, reason, where=CONTACT_QUERY if other else ACCOUNT_QUERY)
    else:
        if d.safety_doc and state.signals.risk.category in SAFETY_CHECK_INS:
            state.suffix.append(SAFETY_CHECK_INS[state.signals.risk.category])
        if d.disclaimer:
            state.suffix.append(ADVICE_DISCLAIMER)
        if d.offer_handoff:
            state.suffix.append(HANDOFF_OFFER)
    _timed(state, "policy", t0)
    return state


def rewrite_step(state: TurnState) -> TurnState:
    if state.route in TERMINAL:
        return state
    state.query = rewrite(state.text, [u for u, _ in state.history])
    if state.query != state.text:
        state.notes.append("follow-up rewritten for retrieval")
    return state


def retrieve_step(state: TurnState, *, kb, classifiers, k: int) -> TurnState:
    if state.route in TERMINAL:
        return state
    t0 = time.perf_counter()
    qvec = classifiers.embed_text(state.query) if classifiers is not None else None
    res = kb.retrieve(state.query, k=k, query_vector=qvec)
    state.retrieval = res
    state.passages = list(res.passages)
    if not res.answerable and state.script:  # nothing to add to the script
        state.passages = state.script_passages
        state.settle("safety", " ".join([state.script, *state.suffix]))
    elif not res.answerable:
        _dont_know(state, kb, "" if ADVICE_DISCLAIMER in state.suffix else OUT_OF_SCOPE)
    _timed(state, "retrieve", t0)
    return state


def _dont_know(state: TurnState, kb, reason: str, where: tuple[str, str] = CONTACT_QUERY) -> None:
    """Settle the turn with "I don't have that information", the reason, where to turn (quoted from the
    documents, cited: the contact page, or for account questions where the customer can see their account)
    and the handoff offer."""
    contact = quote(kb, *where, max_sentences=1 if where == CONTACT_QUERY else 2)
    if not contact.text and where != CONTACT_QUERY:
        contact = quote(kb, *CONTACT_QUERY, max_sentences=1)
    state.passages = contact.passages
    parts = [DONT_KNOW, reason, contact.text, *state.suffix]
    if HANDOFF_OFFER not in parts:
        parts.append(HANDOFF_OFFER)
    state.settle("dont_know", " ".join(p for p in parts if p))


def prompt_step(
    state: TurnState,
    *,
    backend,
    max_new_tokens: int,
    history_turns: int,
    encode=None,
    focus: int = FOCUS_SENTENCES,
) -> TurnState:
    """Chat messages for the model: each passage focused on its `focus` best sentences for the (rewritten)
    query, ranked with `encode` when given (bot/extractive.focus_passages, as in training); history is
    dropped oldest-first until the prompt fits the context window with room for the reply. Passages and
    the question are never cut. `state.passages` keeps the whole passages for the guard and the sources."""
    if state.route in TERMINAL:
        return state
    shown = focus_passages(state.query or state.text, state.passages, encode, focus)
    history = state.history[-history_turns:] if history_turns else []
    window = backend.context_window
    while True:
        msgs: list[dict] = []
        for user, reply in history:
            msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
        state.messages = build_messages(state.text, shown, msgs)
        if not history or backend.count_tokens(state.messages) + max_new_tokens <= window:
            break
        history = history[1:]
        state.notes.append("history trimmed to fit the context window")
    return state
