"""The risk head's selection helpers (cross-validation on training data) and the logit-offset decision rule."""

from __future__ import annotations

import numpy as np
import pytest

from finetune.classifiers.select_risk import balanced_scores, choose_offsets, near_duplicate_groups
from finetune.classifiers.train import ClassifierRecipe, fit_head


def test_near_duplicates_share_a_group() -> None:
    g = near_duplicate_groups(
        [
            "someone used my card in Ohio",
            "someone used my card in Ohio today",
            "what are your branch hours",
            "someone used my card in Ohio today, help",
        ]
    )
    assert g[0] == g[1] == g[3] and g[2] != g[0]


def test_balanced_scores_weight_categories_equally() -> None:
    classes = ["a", "b"]
    y = np.array([0] * 90 + [1] * 10)
    pred = np.array([0] * 90 + [0] * 5 + [1] * 5)  # half of the small class is called "a"
    s = balanced_scores(y, pred, classes)
    assert s["b"]["recall"] == 0.5 and s["b"]["precision"] == 1.0
    assert abs(s["a"]["precision"] - 1 / 1.5) < 1e-3  # 5 of 10 "b" rows weigh as much as 45 "a" rows


def test_choose_offsets_takes_the_smallest_offset_meeting_both_targets() -> None:
    classes = ["fraud", "none"]
    rng = np.random.default_rng(0)
    y = np.array([0] * 200 + [1] * 200)
    logits = np.zeros((400, 2))
    logits[:200, 0] = rng.normal(0.3, 0.2, 200)  # fraud rows: fraud logit a little above none's 0
    logits[:20, 0] = -0.55  # ... but 10% of them well below it: recall 0.90 until the offset passes 0.55
    logits[200:, 0] = -2.0  # none rows: far below
    offsets, scores, ok = choose_offsets(logits, y, classes)
    assert ok and offsets == {"fraud": 0.6} and scores["fraud"]["recall"] == 1.0


def test_logit_offset_is_folded_into_the_intercept() -> None:
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(-1, 1, (200, 4)), rng.normal(1, 1, (200, 4))]).astype(np.float32)
    labels = ["a"] * 200 + ["b"] * 200
    kw = {"c": 1.0, "seed": 0, "val_size": 0.2, "max_iter": 500, "embedding_model": "m", "balanced": True}
    plain = fit_head(x, labels, meta={}, **kw)
    shifted = fit_head(x, labels, meta={}, logit_offsets={"b": 1.5}, **kw)
    assert np.allclose(shifted.weights, plain.weights)
    assert np.allclose(shifted.bias - plain.bias, [0.0, 1.5], atol=1e-5)
    assert shifted.meta["logit_offsets"] == {"b": 1.5}
    more_b = (shifted.predict_proba(x).argmax(1) == 1).sum()
    assert more_b > (plain.predict_proba(x).argmax(1) == 1).sum()


def test_recipe_carries_risk_offsets() -> None:
    r = ClassifierRecipe.load()
    assert set(r.risk_logit_offsets) <= {"fraud", "lost_stolen", "account_security"}


@pytest.mark.slow
def test_sentiment_selection_scores_every_setting_out_of_fold(monkeypatch, tmp_path) -> None:
    """`python -m finetune.classifiers.select_sentiment` on the real training rows with the deterministic
    hashing embedder: one out-of-fold macro-F1 per (features, C), and the n-grams, which see the words the
    hashed vector blurs, score above the same C without them."""
    from finetune.classifiers.select_sentiment import C_GRID, select
    from knowledge import HashingEmbedder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    report = select(HashingEmbedder(), progress=False)
    assert len(report) == 2 * len(C_GRID) and all(0.0 < v <= 1.0 for v in report.values())
    for c in C_GRID:
        assert report[f"embedding+vader+ngrams C={c}"] > report[f"embedding+vader C={c}"]
