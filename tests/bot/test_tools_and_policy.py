"""The classifiers as LangChain tools (typed schemas, validation errors) and the policy that turns their
outputs into actions."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.classifiers import IntentResult, RiskResult, SentimentResult, TurnSignals
from bot.policy import decide
from bot.tools import make_tools

from .test_classifier_inputs import clf  # noqa: F401  (fixture)


def _signals(cat="none", level="low", p=0.9, sent="neutral", reliable=True, notes=()) -> TurnSignals:
    return TurnSignals(
        RiskResult(cat, level, p), SentimentResult(sent, 0.8), IntentResult("x", 0.5), reliable, list(notes)
    )


def test_tools_have_typed_schemas(clf) -> None:  # noqa: F811
    tools = {t.name: t for t in make_tools(clf)}
    assert set(tools) == {"sentiment", "risk", "banking_intent"}
    assert tools["risk"].args_schema.model_json_schema()["properties"]["text"]["minLength"] == 1
    assert "lost or stolen" in tools["risk"].description
    out = tools["risk"].invoke({"text": "someone took money from my account"})
    assert out["category"] in {
        "fraud",
        "lost_stolen",
        "account_security",
        "hardship",
        "complaint",
        "advice",
        "none",
    }
    assert out["level"] in {"high", "medium", "low"} and 0 <= out["probability"] <= 1
    s = tools["sentiment"].invoke({"text": "🙂"})
    assert s["label"] in {"negative", "neutral", "positive"} and "emoji only" in s["notes"]


@pytest.mark.parametrize("bad", [{"text": ""}, {"text": "   "}, {"text": "x" * 20_001}, {}])
def test_tool_schema_rejects_bad_input(clf, bad) -> None:  # noqa: F811
    tool = make_tools(clf)[0]
    with pytest.raises(ValidationError):
        tool.invoke(bad)


def test_high_risk_gets_safety_script_and_handoff() -> None:
    d = decide(_signals("lost_stolen", "high", 0.95))
    assert d.actions == ["safety_script"] and d.safety_doc == "lost-or-stolen-cards" and d.scripted
    assert d.offer_handoff and d.priority == "urgent"
    assert decide(_signals("fraud", "high")).safety_doc == "fraud-and-unauthorised-transactions"
    assert decide(_signals("account_security", "high")).safety_doc == "security-and-scams"


def test_medium_risk_routes() -> None:
    h = decide(_signals("hardship", "medium"))
    assert h.actions == ["hardship_support"] and h.tone == "empathetic" and h.offer_handoff and h.scripted
    c = decide(_signals("complaint", "medium"))
    assert c.actions == ["complaint_route"] and c.tone == "apologetic" and not c.offer_handoff
    upset = decide(_signals("complaint", "medium", 0.6, sent="negative"))
    assert upset.actions == ["complaint_route"] and upset.safety_doc == "complaints"
    calm = decide(_signals("complaint", "medium", 0.64))  # "in-branch domestic wire cost"
    assert calm.actions == [] and calm.safety_doc is None and "answered as a question" in calm.reasons[0]
    unsure = decide(_signals("fraud", "medium", 0.4))
    assert unsure.safety_doc == "fraud-and-unauthorised-transactions" and unsure.offer_handoff
    assert not unsure.scripted


def test_advice_gets_disclaimer_only() -> None:
    d = decide(_signals("advice", "low"))
    assert d.disclaimer and d.actions == ["general_information_only"] and not d.offer_handoff


def test_customer_who_stays_negative_is_offered_a_person() -> None:
    assert not decide(_signals(sent="negative"), []).offer_handoff
    assert decide(_signals(sent="negative"), []).tone == "empathetic"
    assert decide(_signals(sent="negative"), ["neutral", "negative"]).offer_handoff
    assert not decide(_signals(sent="negative"), ["negative", "positive"]).offer_handoff


def test_unreliable_text_is_offered_a_person_but_empty_is_not() -> None:
    assert decide(_signals(reliable=False, notes=["mostly non-Latin script"])).offer_handoff
    assert not decide(_signals(reliable=False, notes=["empty"])).offer_handoff


def test_ordinary_question_needs_nothing() -> None:
    d = decide(_signals())
    assert d.actions == [] and not d.offer_handoff and d.tone == "neutral"


def test_calm_question_the_head_is_unsure_of_is_answered_with_a_check_in() -> None:
    """High-risk wording in a calm question below HIGH_RISK_QUESTION_MIN: no script, the check-in route."""
    calm = decide(_signals("fraud", "high", 0.57), asks=True)
    assert not calm.scripted
    assert calm.safety_doc == "fraud-and-unauthorised-transactions" and calm.priority == "normal"
    assert "calm question" in calm.reasons[0]
    # told, not asked; upset; or sure: the script stays
    assert decide(_signals("fraud", "high", 0.57)).scripted
    assert decide(_signals("fraud", "high", 0.57, sent="negative"), asks=True).scripted
    assert decide(_signals("fraud", "high", 0.9), asks=True).scripted
    # sure across the high-risk categories together (a scam read half as fraud, half as security)
    split = TurnSignals(
        RiskResult("fraud", "high", 0.45, {"fraud": 0.45, "account_security": 0.4, "none": 0.15}),
        SentimentResult("neutral", 0.8),
        None,
        True,
        [],
    )
    assert decide(split, asks=True).scripted
