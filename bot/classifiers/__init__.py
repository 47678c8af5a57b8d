"""Sentiment, risk and intent classifiers over the turn's sentence embedding (see models.py)."""

from .head import HeadMismatchError, LinearHead
from .models import (
    HIGH_RISK,
    MEDIUM_RISK,
    RISK_CATEGORIES,
    SENTIMENTS,
    IntentResult,
    RiskResult,
    SentimentResult,
    TurnClassifiers,
    TurnSignals,
    high_risk_mass,
    risk_level,
)
from .text import PreparedText, prepare

__all__ = [
    "HIGH_RISK",
    "MEDIUM_RISK",
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
    "high_risk_mass",
    "prepare",
    "risk_level",
]
