"""Classifier plumbing with a fake embedder and small random heads: bad input always gets a defined result,
heads round-trip through disk, and a head for another embedding model is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.classifiers import HeadMismatchError, LinearHead, TurnClassifiers, prepare, risk_level
from bot.classifiers.models import RISK_CATEGORIES, SENTIMENTS
from knowledge import HashingEmbedder


def _head(labels, n_features: int, seed: int, model: str = "hashing-fake") -> LinearHead:
    rng = np.random.default_rng(seed)
    return LinearHead(
        rng.standard_normal((len(labels), n_features)).astype(np.float32),
        np.zeros(len(labels), dtype=np.float32),
        list(labels),
        1.0,
        model,
    )


@pytest.fixture
def clf() -> TurnClassifiers:
    emb = HashingEmbedder(dim=64)
    return TurnClassifiers(
        emb, _head(RISK_CATEGORIES, 64, 0), _head(SENTIMENTS, 68, 1), _head(["a", "b"], 64, 2)
    )


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        (None, "empty"),
        ("🙂🙂", "emoji only"),
        ("\x00\x01", "empty"),
        ("<b>hi</b> <script>x</script>", "markup removed"),
        ("a" * 20_000, "truncated to 2000 characters"),
        ("我的银行卡丢了", "non-Latin"),
        (12345, "not a string"),
    ],
)
def test_bad_input_gets_a_defined_result(clf: TurnClassifiers, text, note: str) -> None:
    s = clf.classify(text)
    assert any(note in n for n in s.notes), s.notes
    assert s.risk.category in RISK_CATEGORIES and s.sentiment.label in SENTIMENTS
    if "empty" in s.notes:
        assert (s.risk.category, s.risk.probability, s.sentiment.label, s.sentiment.score) == (
            "none",
            0.0,
            "neutral",
            0.0,
        )
        assert s.intent is None and not s.reliable


def test_prepare_details() -> None:
    assert prepare("😡😡").text.split()[0] == "pouting"  # VADER's emoji lexicon spells emoji out
    mixed = prepare("my card 卡 lost")
    assert mixed.reliable  # mostly Latin letters
    code = prepare("SELECT * FROM accounts; DROP TABLE users;")
    assert code.reliable and code.text.startswith("SELECT")


def test_probabilities_are_distributions(clf: TurnClassifiers) -> None:
    s = clf.classify("someone used my card")
    assert sum(s.risk.scores.values()) == pytest.approx(1.0, abs=1e-3)
    assert s.risk.probability == max(s.risk.scores.values())
    assert s.timings_ms["heads_ms"] >= 0


def test_given_embedding_is_used(clf: TurnClassifiers) -> None:
    v = clf.embedder.encode(["hello there"])[0]
    a = clf.classify("completely different words", embedding=v)
    b = clf.classify("hello there")
    assert a.risk.scores == b.risk.scores


def test_head_round_trip_and_mismatch(tmp_path: Path) -> None:
    h = _head(["x", "y", "z"], 8, 3)
    h.temperature, h.meta = 2.0, {"task": "t"}
    h.save(tmp_path / "h.npz")
    g = LinearHead.load(tmp_path / "h.npz", "hashing-fake")
    assert g.labels == ["x", "y", "z"] and g.temperature == 2.0 and g.meta == {"task": "t"}
    x = np.ones(8, dtype=np.float32)
    assert np.allclose(g.predict_proba(x), h.predict_proba(x))
    with pytest.raises(HeadMismatchError, match="retrain"):
        LinearHead.load(tmp_path / "h.npz", "all-MiniLM-L6-v2")
    with pytest.raises(FileNotFoundError, match="python -m finetune classifiers"):
        LinearHead.load(tmp_path / "missing.npz")


def test_temperature_softens() -> None:
    h = _head(["a", "b"], 4, 5)
    x = np.ones(4, dtype=np.float32)
    sharp = h.predict_proba(x).max()
    h.temperature = 10.0
    assert h.predict_proba(x).max() < sharp


def test_risk_levels() -> None:
    assert risk_level("fraud", 0.9) == "high" and risk_level("fraud", 0.4) == "medium"
    assert risk_level("hardship", 0.99) == "medium" and risk_level("advice", 0.99) == "low"
    assert risk_level("none", 0.99) == "low"
    # unsure which high-risk category, sure it is one of them: a scam call split between fraud and security
    assert risk_level("account_security", 0.40, high_risk_mass=0.65) == "high"
    assert risk_level("account_security", 0.40, high_risk_mass=0.45) == "medium"
    assert risk_level("complaint", 0.40, high_risk_mass=0.55) == "medium"  # the top category decides the kind
