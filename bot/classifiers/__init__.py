"""Sentiment, risk and intent classifiers over the turn's sentence embedding (see models.py)."""

from .head import HeadMismatchError, LinearHead
from .models import (
    HIGH_RISK,
    RISK_CATEGORIES,
    SENTIMENTS,
    IntentResult,
    RiskResult,
    SentimentResult,
    TurnClassifiers,
    TurnSignals,
    risk_level,
)
from .text import PreparedText, prepare

__all__ = [
    "HIGH_RISK",
    "RISK_CATEGORIES",
    "SENTIMENTS",
    "HeadMismatchError",
    "IntentResult",
    "LinearHead",
    "PreparedText",
    "RiskResult",
    "SentimentResult",
    "TurnClassifiers",
    "TurnSignals",
    "prepare",
    "risk_level",
]
