"""The scope model: trained on features the retriever computes, saved as JSON, refused for another
embedding model, and used by the retriever to decide "no answer"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge import ConfigError, KnowledgeBase
from knowledge.builder import build_index
from knowledge.scope import ScopeModel, retrieval_features
from knowledge.scope_training import train_scope

IN = [
    "daily atm limit",
    "atm withdrawal limit per day",
    "purchase limit debit card",
    "lost card what now",
    "freeze lost card",
    "savings interest rate",
    "high yield savings apy",
    "savings withdrawals fee",
    "how many free withdrawals savings",
    "card lost call number",
]
OUT = [
    "banana bread recipe",
    "who won the football",
    "weather tomorrow rain",
    "python list sort code",
    "best pizza toppings",
    "movie tickets tonight",
    "football score tonight",
    "recipe for soup",
    "rain forecast weekend",
    "write javascript function",
]


def _train_file(tmp_path: Path) -> Path:
    p = tmp_path / "scope_train.jsonl"
    p.write_text(
        "\n".join(
            json.dumps({"question": q, "answerable": a}) for qs, a in ((IN, True), (OUT, False)) for q in qs
        )
    )
    return p


def test_features_are_scale_free() -> None:
    f = retrieval_features(np.array([0.7, 0.6, 0.5, 0.4, 0.3]), bm25_top=0.0)
    assert f.tolist() == pytest.approx([0.7, 0.4, 0.0])
    assert retrieval_features(np.array([]), 0.0).tolist() == [0.0, 0.0, 0.0]


def test_train_save_load_and_decide(small_cfg, fake_embedder, tmp_path: Path) -> None:
    build_index(small_cfg, fake_embedder, progress=False)
    kb = KnowledgeBase.open(small_cfg, fake_embedder)
    assert kb.retriever.scope is None  # no model for the fake embedder: the cosine threshold decides
    out = tmp_path / "scope.json"
    meta = train_scope(kb.retriever, [_train_file(tmp_path)], out, progress=False)
    assert meta["examples"] == 20 and meta["unanswerable"] == 10
    assert len(meta["training_files"]["scope_train.jsonl"]) == 64
    model = ScopeModel.load(out, "hashing-fake", 256)
    assert model is not None and model.weights.shape == (259,)
    assert ScopeModel.load(out, "all-MiniLM-L6-v2", 384) is None
    kb2 = KnowledgeBase.open(small_cfg.with_overrides(scope_model=str(out)), fake_embedder)
    inside = kb2.retrieve("atm limit per day")
    outside = kb2.retrieve("recipe for banana soup")
    assert inside.answerable and inside.scope_probability > 0.5
    assert not outside.answerable and outside.scope_probability < 0.5


def test_explicit_scope_model_for_another_embedder_is_refused(
    small_cfg, fake_embedder, tmp_path: Path
) -> None:
    build_index(small_cfg, fake_embedder, progress=False)
    bad = tmp_path / "scope.json"
    ScopeModel(np.zeros(387, dtype=np.float32), 0.0, "all-MiniLM-L6-v2").save(bad)
    with pytest.raises(ConfigError, match="train-scope"):
        KnowledgeBase.open(small_cfg.with_overrides(scope_model=str(bad)), fake_embedder)
    kb = KnowledgeBase.open(small_cfg.with_overrides(scope_model="none"), fake_embedder)
    assert kb.retriever.scope is None


def test_top_cosine_floor_overrides_an_accepting_scope_model(small_cfg, fake_embedder) -> None:
    """Beneath the scope model: no passage close enough means "no answer", whatever the model says."""
    build_index(small_cfg, fake_embedder, progress=False)
    kb = KnowledgeBase.open(small_cfg.with_overrides(min_top_cosine=0.0), fake_embedder)
    kb.retriever.scope = ScopeModel(np.zeros(259, dtype=np.float32), 5.0, "hashing-fake")  # accepts all
    top = kb.retrieve("recipe for banana soup").top_score
    assert kb.retrieve("recipe for banana soup").answerable
    for floor, expected in ((top + 0.01, False), (max(top - 0.01, 0.0), True)):
        kb.retriever.cfg = kb.retriever.cfg.with_overrides(min_top_cosine=floor)
        assert kb.retrieve("recipe for banana soup").answerable is expected


def test_ngrams_carry_what_the_embedding_cannot_and_survive_save(tmp_path: Path) -> None:
    """Dense features that say nothing (noise): cross-validation picks the n-gram block, the model separates
    the questions by their words, and the saved JSON scores exactly the same after loading."""
    from knowledge.scope_training import train

    texts = IN + OUT
    y = np.array([1] * len(IN) + [0] * len(OUT))
    x = np.random.default_rng(0).normal(0, 0.01, (len(texts), 11)).astype(np.float32)
    model, cv = train(x, y, texts, "hashing-fake", c_grid=(1.0, 10.0))
    assert model.meta is not None and model.meta["ngram_scale"] > 0
    assert model.ngrams is not None and model.ngram_weights is not None
    assert cv["cv_by_setting"]["ngram_scale=0.0 C=1.0"] < cv["cv_prior_weighted_no_answer_f1"]
    probs = [model.probability(v[:-3], v[-3:], t) for v, t in zip(x, texts, strict=True)]
    assert min(probs[: len(IN)]) > max(probs[len(IN) :])
    # without the question's text only the dense part speaks
    assert model.probability(x[0, :-3], x[0, -3:]) != pytest.approx(probs[0])
    out = tmp_path / "scope.json"
    model.save(out)
    again = ScopeModel.load(out, "hashing-fake", 8)
    assert again is not None and again.ngrams is not None
    assert [again.probability(v[:-3], v[-3:], t) for v, t in zip(x, texts, strict=True)] == pytest.approx(
        probs, abs=1e-5
    )
    data = json.loads(out.read_text())
    data["ngrams"]["weights"] = data["ngrams"]["weights"][:-1]  # damaged: one weight short
    out.write_text(json.dumps(data))
    assert ScopeModel.load(out, "hashing-fake", 8) is None
