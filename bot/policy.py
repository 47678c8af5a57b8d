"""Turn policy: map the classifiers' outputs (and the recent history of sentiment) to actions: a safety
script from the documents with a handoff offer for high risk, supportive handling of hardship, apology and
complaint route for complaints (when the customer sounds negative or the classifier is sure), general
information plus a disclaimer and referral for regulated advice, a human offered to a customer who stays
negative, and a human offered when the text is beyond the models.

Pure function, no I/O: `decide(signals, recent_sentiments, asks)`. Wording lives with the prompts; this module
returns what to do, not what to say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .classifiers import MEDIUM_RISK, TurnSignals, high_risk_mass

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
# Likewise a calm question that the risk head reads as fraud, a lost card or a security problem without
# being sure ("someone wired me money to my basic checking, do i pay": fraud, p 0.57) is answered, with the
# check-in line that offers the safety steps, instead of opening with "please act now". Sure means p >= 0.7
# for the category or for the three high-risk categories together. Chosen on training data only: of the 1,524
# product questions of knowledge/eval/retrieval_train*.jsonl, 139 took a high-risk script, 20 fewer with
# this rule (one of the 20 reports an incident: "shared my passcode with a scammer what do i do", p 0.67; it
# gets the answer from the security page and the check-in line); 1 of the 913 written high-risk training
# messages loses its script (in-sample). Measured after the choice on finetune/data/risk/eval.jsonl: 0 of
# its 181 high-risk messages lose the script, 2 of the 6 other messages that got one no longer do.
HIGH_RISK_QUESTION_MIN = 0.7


@dataclass
class PolicyDecision:
    actions: list[str] = field(default_factory=list)
    tone: str = "neutral"
    offer_handoff: bool = False
    priority: str = "normal"
    safety_doc: str | None = None
    scripted: bool = False  # the documented route (safety steps, support line, complaints) opens the reply
    disclaimer: bool = False
    reasons: list[str] = field(default_factory=list)


def decide(signals: TurnSignals, recent_sentiments: Sequence[str] = (), asks: bool = False) -> PolicyDecision:
    """`recent_sentiments`: labels of the previous customer turns, oldest first; `asks`: the message asks
    something (bot/question_scope.asks_question), rather than only telling what happened."""
    d = PolicyDecision()
    risk, sentiment = signals.risk, signals.sentiment
    level = risk.level
    sure = max(risk.probability, high_risk_mass(risk.scores))
    if level == "high" and asks and sentiment.label != "negative" and sure < HIGH_RISK_QUESTION_MIN:
        level = "medium"
        d.reasons.append(f"high-risk wording in a calm question (p={sure:.2f}): answered, with a check-in")
    if level == "high":
        d.actions.append("safety_script")
        d.scripted = True
        d.safety_doc = SAFETY_DOCS[risk.category]
        d.offer_handoff = True
        d.priority = "urgent"
        d.tone = "calm_urgent"
        d.reasons.append(f"high risk: {risk.category} (p={risk.probability:.2f})")
    elif (
        risk.category == "complaint"
        and level == "medium"
        and sentiment.label != "negative"
        and risk.probability < COMPLAINT_ROUTE_MIN
    ):
        d.reasons.append(
            f"complaint wording in a calm message (p={risk.probability:.2f}): answered as a question"
        )
    elif risk.category in SAFETY_DOCS and level == "medium":
        d.safety_doc = SAFETY_DOCS[risk.category]
        d.scripted = risk.category in MEDIUM_RISK  # their routes open the reply; unsure high risk does not
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
