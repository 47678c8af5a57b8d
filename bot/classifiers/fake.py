"""A deterministic stand-in for TurnClassifiers in unit tests (like haystack's mock embedder): keyword
rules decide risk and sentiment, so a test states exactly which signals a turn gets. Same methods the
assistant and the tools use (`classify`, `embed_text`); no model is loaded."""

from __future__ import annotations

import numpy as np

from .models import IntentResult, RiskResult, SentimentResult, TurnSignals, risk_level
from .text import prepare

DEFAULT_RULES: dict[str, tuple[str, str]] = {
    # keyword (lower case) -> (risk category, sentiment)
    "lost my": ("lost_stolen", "negative"),
    "stolen": ("lost_stolen", "negative"),
    "didn't make": ("fraud", "negative"),
    "not me": ("fraud", "negative"),
    "passcode to": ("account_security", "negative"),
    "lost my job": ("hardship", "negative"),
    "complain": ("complaint", "negative"),
    "should i invest": ("advice", "neutral"),
    "useless": ("none", "negative"),
    "terrible": ("none", "negative"),
    "thank": ("none", "positive"),
}


class FakeClassifiers:
    def __init__(self, embedder, rules: dict[str, tuple[str, str]] | None = None) -> None:
        self.embedder = embedder
        self.rules = dict(DEFAULT_RULES if rules is None else rules)
        self.calls = 0

    def embed_text(self, text: str) -> np.ndarray:
        return self.embedder.encode([text])[0]

    def classify(self, text: object, embedding: np.ndarray | None = None) -> TurnSignals:
        self.calls += 1
        prepared = prepare(text)
        low = prepared.text.lower()
        category, sentiment = "none", "neutral"
        for key in sorted(self.rules, key=len, reverse=True):  # "lost my job" beats "lost my"
            if key in low:
                category, sentiment = self.rules[key]
                break
        p = 0.9
        return TurnSignals(
            risk=RiskResult(category, risk_level(category, p), p, {category: p}),
            sentiment=SentimentResult(sentiment, p, {sentiment: p}),
            intent=IntentResult("fake_intent", 0.5),
            reliable=prepared.reliable,
            notes=list(prepared.notes),
        )
