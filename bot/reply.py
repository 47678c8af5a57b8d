"""The reply of an answering turn: the model's text streamed through the output guard, then settled.

`ReplyWriter.stream(state, guard)` yields the reply's pieces in order:

1. the model's sentences, each one as soon as it ends and only once the output guard has verified it
   (figures, phone numbers and product names found in the passages, personal data masked, no repeats);
2. then one of:
   - the model declined and the retrieval says the library has no answer: the "don't know" reply with how
     to reach a person, quoted from the contact page (nothing when `scripted`: the script already says
     where to turn);
   - no verified, cited sentence survived, or the model is down: a cited extract of the best passage
     sentences (`bot/extractive.best_evidence`), marked as a fallback;
   - otherwise the completion: the passage sentence that holds the kind of figure asked for when the reply
     has none (`missing_figure`), and the best-ranked passage sentences the reply does not carry
     (`uncovered_top`), each checked like the model's own sentences.

It records what it did in `guard` (dropped sentences, masked personal data, fallback, additions) and in
`state` (route, status, passages, suffix, timings). It does not run the pre-generation steps
(bot/steps.py), add the policy's text around the reply, or record the turn (bot/assistant.py does).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .extractive import Encoder, QueryView, best_evidence, missing_figure, uncovered_top
from .guards.grounding import citations
from .guards.output_guard import StreamingVerifier
from .llm import BackendError, GenerationRequest, GenerationStats
from .policy_text import MODEL_DOWN_NOTE
from .prompts import DONT_KNOW, HANDOFF_OFFER, says_dont_know
from .sentence_ranker import SentenceRanker
from .steps import TurnState

log = logging.getLogger("bot.reply")


def is_decline(sentence: str) -> bool:
    """The sentence is the model's "don't know" or its handoff offer, not part of an answer."""
    return says_dont_know(sentence) or sentence.strip() == HANDOFF_OFFER


@dataclass
class ReplyWriter:
    backend: Any  # bot.llm.ChatBackend
    encode: Encoder  # the sentence ranker's encoder
    query_view: QueryView | None  # the retrieval's query adapter, for completion and the fallback extract
    contact: Callable[[], Any]  # () -> bot.safety.Quote: how to reach a person, cited
    allow: frozenset[str] | set[str] = frozenset()  # the bank's own contacts, never masked
    max_new_tokens: int = 160
    copy_bias: float = 0.0
    ranker: SentenceRanker | None = (
        None  # learned order for completion and the fallback (None: hand-weighted)
    )

    def stream(self, state: TurnState, guard: dict, scripted: bool = False) -> Iterator[str]:
        texts = [p.text for p in state.passages]  # the retrieved passages, whole: guard, extract, completion
        verifier = StreamingVerifier(texts, state.text, self.allow)
        request = GenerationRequest(
            messages=state.messages, max_new_tokens=self.max_new_tokens, copy_bias=self.copy_bias
        )
        t0 = time.perf_counter()
        kept: list[str] = []
        declined = False
        try:
            for piece in self.backend.stream(request, GenerationStats()):
                state.timings_ms.setdefault("first_token", round((time.perf_counter() - t0) * 1e3, 2))
                for sentence in verifier.feed(piece):
                    if is_decline(sentence):
                        declined = True
                        continue
                    state.timings_ms.setdefault("first_verified", round((time.perf_counter() - t0) * 1e3, 2))
                    kept.append(sentence)
                    yield sentence
        except BackendError as exc:
            log.error("generation failed, answering with an extract: %s", exc)
            state.status = "fallback"
            guard["backend_error"] = str(exc)[:300]
        state.timings_ms["generate"] = round((time.perf_counter() - t0) * 1e3, 2)
        t1 = time.perf_counter()
        verdict = verifier.finish()
        last = verifier.tail
        if last:
            if is_decline(last):
                declined = True
            else:
                kept.append(last)
                yield last
        guard["dropped"] = verdict.dropped
        guard["pii_masked_in_reply"] = verdict.pii_masked
        body = " ".join(kept)
        cited = bool(citations(body))
        answerable = state.retrieval is not None and state.retrieval.answerable
        if declined and not cited and answerable:
            # The scope model (F1 0.85 on held-out questions) is a better judge of "the library answers
            # this" than a 135M model's refusal: quote the best passage instead of declining.
            guard["model_declined"] = True
            declined = False
        if declined and not cited and scripted:
            guard["model_declined"] = True
        elif declined and not cited:
            yield self._dont_know(state)
        elif not cited:
            yield from self._fallback(state, texts, guard, body)
        else:
            yield from self._complete(state, body, texts, verifier, guard)
        state.timings_ms["verify"] = round((time.perf_counter() - t1) * 1e3, 2)

    def _dont_know(self, state: TurnState) -> str:
        state.route = "dont_know"
        contact = self.contact()
        state.passages = contact.passages
        if HANDOFF_OFFER not in state.suffix:
            state.suffix.append(HANDOFF_OFFER)
        return f"{DONT_KNOW} {contact.text}"

    def _fallback(self, state: TurnState, texts: list[str], guard: dict, said: str = "") -> Iterator[str]:
        # Ranked for the customer's own words: the rewritten follow-up query holds the earlier question
        # too, and its extract answered that one instead (bot/eval follow-up bf-048, 6a5589d reverted).
        # Sentences the customer has already been shown (`said`) are not quoted again.
        extract = best_evidence(
            state.text,
            texts,
            self.encode,
            query_view=self.query_view,
            said=said,
            ranker=self.ranker,
            sections=[p.section for p in state.passages],
        )
        note = MODEL_DOWN_NOTE + " " if guard.get("backend_error") else ""
        state.status = "fallback"
        guard["fallback"] = "model down" if guard.get("backend_error") else "no verified, cited sentence"
        if extract:
            yield f"{note}{extract}"

    def _complete(
        self, state: TurnState, body: str, texts: list[str], verifier: StreamingVerifier, guard: dict
    ) -> Iterator[str]:
        # The reply is grounded and cited but may stop short of the figure asked for, or quote a neighbour
        # of the best sentence: add the passage sentences that hold them (checked like the model's own).
        question = state.query or state.text
        order = {"ranker": self.ranker, "sections": [p.section for p in state.passages]}
        # The hand-weighted order ranks for the raw question here; the learned one reads both views.
        view = self.query_view if self.ranker is not None else None
        extra = missing_figure(question, body, texts, self.encode, query_view=view, **order)
        if extra and verifier.checker.problem(extra) is None:
            guard["figure_added"] = extra
            body = f"{body} {extra}"
            yield verifier.checker.clean(extra)[0]
        for best in uncovered_top(question, body, texts, self.encode, query_view=self.query_view, **order):
            if verifier.checker.problem(best) is None:
                guard.setdefault("best_sentences_added", []).append(best)
                yield verifier.checker.clean(best)[0]
