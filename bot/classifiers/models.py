"""The turn's classifiers over one shared sentence embedding:

- risk: fraud, lost_stolen, account_security, hardship, complaint, advice, none; with a level and a
  calibrated probability; the head also reads the message's word and character n-grams (knowledge/ngrams.py);
- sentiment: negative, neutral, positive; the head reads the embedding plus VADER's four scores and the n-grams;
- intent: the 77 Banking77 intents, for routing and analytics.

`TurnClassifiers.classify(text, embedding=None)` embeds once (or takes the turn's embedding) and runs all
heads. It never raises on bad text: empty or unusable input gets neutral / none with probability 0 and a
note saying why. Training lives in `finetune/`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .head import LinearHead
from .text import PreparedText, prepare

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
RISK_CATEGORIES = ("fraud", "lost_stolen", "account_security", "hardship", "complaint", "advice", "none")
HIGH_RISK = frozenset({"fraud", "lost_stolen", "account_security"})
MEDIUM_RISK = frozenset({"hardship", "complaint"})
SENTIMENTS = ("negative", "neutral", "positive")


def risk_level(category: str, probability: float, high_risk_mass: float = 0.0) -> str:
    """high: fraud, loss or a security breach the model is sure of: p >= 0.5 for the category, or for the
    three high-risk categories together (`high_risk_mass`: a phone scam can look like fraud and like a
    compromised account, and is high risk either way); medium: those when unsure, and hardship or
    complaints; low: advice requests and everything else."""
    if category in HIGH_RISK:
        return "high" if max(probability, high_risk_mass) >= 0.5 else "medium"
    if category in MEDIUM_RISK:
        return "medium"
    return "low"


def high_risk_mass(scores: Mapping[str, float]) -> float:
    """Probability of the three high-risk categories together, from per-category probabilities."""
    return float(sum(v for label, v in scores.items() if label in HIGH_RISK))


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_features(text: str) -> np.ndarray:
    s = _vader().polarity_scores(text)
    return np.array([s["neg"], s["neu"], s["pos"], s["compound"]], dtype=np.float32)


@dataclass
class RiskResult:
    category: str
    level: str
    probability: float
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class SentimentResult:
    label: str
    score: float
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class IntentResult:
    intent: str
    probability: float


@dataclass
class TurnSignals:
    risk: RiskResult
    sentiment: SentimentResult
    intent: IntentResult | None
    reliable: bool
    notes: list[str]
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scores(labels: list[str], p: np.ndarray) -> dict[str, float]:
    return {lab: round(float(v), 4) for lab, v in zip(labels, p, strict=True)}


EMPTY_RISK = RiskResult("none", "low", 0.0)
EMPTY_SENTIMENT = SentimentResult("neutral", 0.0)


class TurnClassifiers:
    def __init__(
        self, embedder: Any, risk: LinearHead, sentiment: LinearHead, intent: LinearHead | None = None
    ):
        self.embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()  # text -> embedding, shared per turn
        self._cache_lock = threading.Lock()
        self.risk_head = risk
        self.sentiment_head = sentiment
        self.intent_head = intent

    @classmethod
    def load(cls, embedder: Any, models_dir: Path = MODELS_DIR) -> TurnClassifiers:
        name = embedder.model_name
        intent_path = models_dir / "intent.npz"
        return cls(
            embedder,
            LinearHead.load(models_dir / "risk.npz", name),
            LinearHead.load(models_dir / "sentiment.npz", name),
            LinearHead.load(intent_path, name) if intent_path.is_file() else None,
        )

    def embed(self, prepared: PreparedText) -> np.ndarray:
        return self.embed_text(prepared.text)

    def embed_text(self, text: str) -> np.ndarray:
        """The sentence embedding of `text`, cached (last 256 texts) so that the tools called in one turn
        and retrieval share one embedding instead of computing it again."""
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vec = self.embedder.encode([text])[0]
        with self._cache_lock:
            self._cache[text] = vec
            while len(self._cache) > 256:
                self._cache.popitem(last=False)
        return vec

    def risk(self, prepared: PreparedText, emb: np.ndarray) -> RiskResult:
        if prepared.empty:
            return EMPTY_RISK
        p = self.risk_head.predict_proba(emb, [prepared.text])[0]
        i = int(p.argmax())
        cat = self.risk_head.labels[i]
        mass = high_risk_mass(dict(zip(self.risk_head.labels, p, strict=True)))
        return RiskResult(
            cat, risk_level(cat, float(p[i]), mass), round(float(p[i]), 4), _scores(self.risk_head.labels, p)
        )

    def sentiment(self, prepared: PreparedText, emb: np.ndarray) -> SentimentResult:
        if prepared.empty:
            return EMPTY_SENTIMENT
        x = np.concatenate([emb, vader_features(prepared.text)])
        p = self.sentiment_head.predict_proba(x, [prepared.text])[0]
        i = int(p.argmax())
        return SentimentResult(
            self.sentiment_head.labels[i], round(float(p[i]), 4), _scores(self.sentiment_head.labels, p)
        )

    def intent(self, prepared: PreparedText, emb: np.ndarray) -> IntentResult | None:
        if self.intent_head is None or prepared.empty:
            return None
        p = self.intent_head.predict_proba(emb, [prepared.text])[0]
        i = int(p.argmax())
        return IntentResult(self.intent_head.labels[i], round(float(p[i]), 4))

    def classify(self, text: object, embedding: np.ndarray | None = None) -> TurnSignals:
        t0 = time.perf_counter()
        prepared = prepare(text)
        emb = embedding
        if emb is None and not prepared.empty:
            emb = self.embed(prepared)
        t1 = time.perf_counter()
        if emb is None:
            emb = np.zeros(self.risk_head.n_features, dtype=np.float32)
        signals = TurnSignals(
            risk=self.risk(prepared, emb),
            sentiment=self.sentiment(prepared, emb),
            intent=self.intent(prepared, emb),
            reliable=prepared.reliable,
            notes=list(prepared.notes),
        )
        t2 = time.perf_counter()
        signals.timings_ms = {"embed_ms": round((t1 - t0) * 1e3, 3), "heads_ms": round((t2 - t1) * 1e3, 3)}
        return signals
