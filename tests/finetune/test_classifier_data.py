"""Classifier training data: every Banking77 intent mapped, NLU++ rules applied, held-out sets separate
from training, and the training helpers (temperature calibration, head fitting) behave."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from finetune.classifiers import data
from finetune.classifiers.train import ClassifierRecipe, fit_head, fit_temperature

ROOT = Path(__file__).resolve().parents[2]


def test_data_checks_script_passes() -> None:
    proc = subprocess.run(
        [sys.executable, "finetune/data/risk/check_risk_data.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_every_banking77_intent_is_mapped() -> None:
    rows = data.banking77()
    mapping = data.banking77_risk_map()
    assert len(rows) == 10003 and {r.label for r in rows} == set(mapping)
    assert (
        mapping["lost_or_stolen_card"] == "lost_stolen" and mapping["card_payment_not_recognised"] == "fraud"
    )


def test_nlupp_rules() -> None:
    spec = {
        "default": {"risk": "none"},
        "text_overrides": [{"text": "I was scammed", "risk": "fraud"}],
        "rules": [
            {"all_of": ["lost_stolen"], "risk": "lost_stolen"},
            {"all_of": ["refund"], "none_of": ["request_info"], "risk": "complaint"},
        ],
    }
    assert data.nlupp_risk("i was scammed ", [], spec) == "fraud"
    assert data.nlupp_risk("x", ["lost_stolen", "card"], spec) == "lost_stolen"
    assert data.nlupp_risk("x", ["refund"], spec) == "complaint"
    assert data.nlupp_risk("x", ["refund", "request_info"], spec) == "none"
    labels = {e.label for e in data.nlupp()}
    assert labels <= set(data.RISK_CATEGORIES) and "lost_stolen" in labels


def test_held_out_sets_do_not_leak_into_training() -> None:
    train = {e.text.strip().lower() for e in data.written_risk() + data.sentiment("train")}
    risk_held = [e for name in data.RISK_EVAL_SETS for e in data.risk_eval(name=name)]
    held = [e.text.strip().lower() for e in risk_held + data.sentiment("eval")]
    assert len(held) >= 1100 and not [t for t in held if t in train]
    rows = data.banking77()
    tr, te = data.banking77_split(rows, 0.2, 0)
    assert not set(tr) & set(te) and len(te) == 2001
    assert data.banking77_split(rows, 0.2, 0) == (tr, te)  # seeded


def test_sentiment_eval_is_large_enough() -> None:
    labels = [e.label for e in data.sentiment("eval")]
    assert len(labels) >= 400 and set(labels) == {"negative", "neutral", "positive"}


def test_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 3000)
    true_logits = rng.standard_normal((3000, 3))
    true_logits[np.arange(3000), y] += 1.0
    t = fit_temperature(true_logits * 3.0, y)  # logits inflated 3x: the fitted temperature should undo it
    assert 2.4 < t < 3.6


def test_fit_head_learns_a_separable_problem() -> None:
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(-2, 1, (200, 5)), rng.normal(2, 1, (200, 5))]).astype(np.float32)
    labels = ["a"] * 200 + ["b"] * 200
    head = fit_head(
        x, labels, c=1.0, seed=0, val_size=0.2, max_iter=500, embedding_model="m", balanced=True, meta={}
    )
    assert head.labels == ["a", "b"] and head.meta["train_rows"] == 320
    acc = np.mean(np.array(head.labels)[head.predict_proba(x).argmax(1)] == np.array(labels))
    assert acc > 0.97


def test_recipe_file_loads() -> None:
    r = ClassifierRecipe.load()
    assert r.seed == 0 and r.banking77_test_size == 0.2 and r.risk_written_weight > 1
