"""The committed classifier heads on the real all-MiniLM-L6-v2 embedding: clear cases come out right, and
held-out quality stays at or above the figures reported for the issue (regression guard)."""

from __future__ import annotations

import pytest

from bot.classifiers import TurnClassifiers
from bot.policy import decide
from finetune.classifiers.evaluate import evaluate_all
from finetune.classifiers.train import ClassifierRecipe
from knowledge import KnowledgeConfig, SentenceTransformerEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clf() -> TurnClassifiers:
    return TurnClassifiers.load(SentenceTransformerEmbedder(KnowledgeConfig().resolved_embedding_model()))


@pytest.mark.parametrize(
    ("text", "category", "level"),
    [
        ("someone just used my card in Chicago and I'm sitting at home in Boston", "fraud", "high"),
        ("I left my wallet with my debit card on the bus", "lost_stolen", "high"),
        (
            "I gave the one-time code to a man who said he was from your fraud team",
            "account_security",
            "high",
        ),
        ("I lost my job last month and can't make my car loan payment", "hardship", "medium"),
        ("should I put my savings into index funds or pay off my mortgage?", "advice", "low"),
        ("what time do branches open on saturday", "none", "low"),
    ],
)
def test_clear_risk_cases(clf: TurnClassifiers, text: str, category: str, level: str) -> None:
    s = clf.classify(text)
    assert (s.risk.category, s.risk.level) == (category, level), s.risk


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("thank you so much, that sorted it!", "positive"),
        pytest.param(
            "great, another $35 fee. just what I needed",
            "negative",
            marks=pytest.mark.xfail(strict=True, reason="known weakness: sarcasm around a fee amount"),
        ),
        ("what's the interest rate on the high yield savings account?", "neutral"),
        ("how do I report fraud?", "neutral"),  # a bare question naming fraud (fixed by the n-grams)
    ],
)
def test_clear_sentiment_cases(clf: TurnClassifiers, text: str, label: str) -> None:
    assert clf.classify(text).sentiment.label == label


def test_lost_card_turn_triggers_safety_script(clf: TurnClassifiers) -> None:
    d = decide(clf.classify("my card was stolen this morning, what do I do?"))
    assert d.safety_doc == "lost-or-stolen-cards" and d.offer_handoff


def test_foreign_script_is_flagged_not_crashing(clf: TurnClassifiers) -> None:
    s = clf.classify("我的银行卡被偷了")
    assert not s.reliable and decide(s).offer_handoff


@pytest.fixture(scope="module")
def held_out(clf: TurnClassifiers) -> dict:
    return evaluate_all(clf, ClassifierRecipe.load(), progress=False)


def test_held_out_quality(held_out: dict) -> None:
    r = held_out
    assert r["banking77_intent"]["accuracy"] >= 0.90
    assert r["sentiment"]["macro_f1"] >= 0.89  # 0.905 with n-grams (0.860 without)
    assert r["sentiment"]["macro_f1"] > r["sentiment_vader_baseline"]["macro_f1"] + 0.15
    assert r["risk"]["macro_f1"] >= 0.94  # 0.953 with word and character n-grams (0.907 without)
    assert r["risk"]["high_risk_any"]["recall"] >= 0.95
    assert r["risk"]["ece"] < 0.08 and r["sentiment"]["ece"] < 0.08


@pytest.mark.parametrize(
    "category",
    [
        pytest.param("fraud", marks=pytest.mark.xfail(strict=True, reason="recall 0.917 (55/60)")),
        "lost_stolen",
        "account_security",
    ],
)
def test_high_risk_category_meets_the_issue_target(held_out: dict, category: str) -> None:
    """Recall >= 0.95 with precision >= 0.85 (issue 4). Strict marks: a category that reaches the target
    fails here until its mark is removed."""
    c = held_out["risk"]["per_class"][category]
    assert c["recall"] >= 0.95 and c["precision"] >= 0.85, c
