"""Turn policy: map the classifiers' outputs (and the recent history of sentiment) to actions: a safety
script from the documents with a handoff offer for high risk, supportive handling of hardship, apology and
complaint route for complaints (when the customer sounds negative or the classifier is sure), general
information plus a disclaimer and referral for regulated advice, a human offered to a customer who stays
negative, and a human offered when the text is beyond the models.

Pure function, no I/O: `decide(signals, recent_sentiments)`. Wording lives with the prompts; this module
returns what to do, not what to say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .classifiers import TurnSignals

# Which document holds the safety script or route for each situation.
SAFETY_DOCS = {
    "fraud": "fraud-and-unauthorised-transactions",
    "lost_stolen": "lost-or-stolen-cards",
    "account_security": "security-and-scams",
    "hardship": "financial-hardship",
    "complaint": "complaints",
}
NEGATIVE_TURNS_BEFORE_HUMAN = 2
# A "complaint" read in a calm message is often a fee question ("mobile deposit fee" reads as a complaint at
# p 0.97): the complaints route replaces the answer only when the customer sounds negative or the head is
# sure. Chosen on training data only: of 1,524 product questions (knowledge/eval/retrieval_train*.jsonl)
# 125 took the complaints route before, 68 with this rule; 203 of 210 written training complaints keep it.
COMPLAINT_ROUTE_MIN = 0.9


@dataclass
class PolicyDecision:
    actions: list[str] = field(default_factory=list)
    tone: str = "neutral"
    offer_handoff: bool = False
    priority: str = "normal"
    safety_doc: str | None = None
    disclaimer: bool = False
    reasons: list[str] = field(default_factory=list)


def decide(signals: TurnSignals, recent_sentiments: Sequence[str] = ()) -> PolicyDecision:
    """`recent_sentiments`: labels of the previous customer turns, oldest first."""
    d = PolicyDecision()
    risk, sentiment = signals.risk, signals.sentiment
    if risk.level == "high":
        d.actions.append("safety_script")
        d.safety_doc = SAFETY_DOCS[risk.category]
        d.offer_handoff = True
        d.priority = "urgent"
        d.tone = "calm_urgent"
        d.reasons.append(f"high risk: {risk.category} (p={risk.probability:.2f})")
    elif (
        risk.category == "complaint"
        and risk.level == "medium"
        and sentiment.label != "negative"
        and risk.probability < COMPLAINT_ROUTE_MIN
    ):
        d.reasons.append(
            f"complaint wording in a calm message (p={risk.probability:.2f}): answered as a question"
        )
    elif risk.category in SAFETY_DOCS and risk.level == "medium":
        d.safety_doc = SAFETY_DOCS[risk.category]
        d.actions.append(
            "hardship_support"
            if risk.category == "hardship"
            else "complaint_route"
            if risk.category == "complaint"
            else "safety_script"
        )
        d.tone = (
            "empathetic"
            if risk.category == "hardship"
            else "apologetic"
            if risk.category == "complaint"
            else "calm_urgent"
        )
        d.offer_handoff = risk.category in {"hardship", "fraud", "lost_stolen", "account_security"}
        d.reasons.append(f"medium risk: {risk.category} (p={risk.probability:.2f})")
    elif risk.category == "advice":
        d.actions.append("general_information_only")
        d.disclaimer = True
        d.reasons.append("regulated advice requested: general information, disclaimer and referral")
    negatives = [*recent_sentiments, sentiment.label][-NEGATIVE_TURNS_BEFORE_HUMAN:]
    if sentiment.label == "negative":
        if d.tone == "neutral":
            d.tone = "empathetic"
        if len(negatives) == NEGATIVE_TURNS_BEFORE_HUMAN and all(s == "negative" for s in negatives):
            d.offer_handoff = True
            d.reasons.append(f"negative for {NEGATIVE_TURNS_BEFORE_HUMAN} turns in a row: offer a person")
    if not signals.reliable and "empty" not in signals.notes:
        d.offer_handoff = True
        d.reasons.append("message beyond the models (" + "; ".join(signals.notes) + "): offer a person")
    return d
