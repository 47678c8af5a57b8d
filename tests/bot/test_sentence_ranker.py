"""bot.sentence_ranker: the learned order reads the section heading, survives a save and a load, refuses a
damaged or foreign file, and is chosen by configuration; with none the hand-weighted order stays."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.config import BotConfig, BotConfigError
from bot.extractive import CachedEncoder, best_evidence, candidates, rank_sentences, uncovered_top
from bot.sentence_ranker import (
    DEFAULT_PATH,
    FEATURES,
    Candidate,
    SentenceRanker,
    candidate_features,
    late_interaction,
    ranker_for,
)

PASSAGES = [
    "Outgoing domestic wires cost $30. Incoming wires are free.",
    "Send money to other banks in minutes. Each payment costs $1, whatever the amount.",
]
SECTIONS = ["Wire transfer fees", "Instant payments"]


def pooled(texts: list[str]) -> np.ndarray:
    """Toy encoder: one axis for texts that mention wires, one for the rest."""
    v = np.array([[1.0, 0.1] if "wire" in t.lower() else [0.1, 1.0] for t in texts]).reshape(-1, 2)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def with_tokens(texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The toy vectors, and each word encoded alone as the text's token vectors."""
    return pooled(texts), [pooled(t.split()) for t in texts]


encode = CachedEncoder(pooled, encode_with_tokens=with_tokens)


def only(feature: str, weight: float = 1.0) -> SentenceRanker:
    w = np.zeros(len(FEATURES))
    w[FEATURES.index(feature)] = weight
    return SentenceRanker(w, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), {})


def test_features_have_one_row_per_candidate_and_read_the_heading() -> None:
    found = candidates(PASSAGES, SECTIONS)
    assert [(c.passage, c.position) for c in found] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    x = candidate_features("what does a wire cost?", found, encode)
    assert x.shape == (4, len(FEATURES)) and np.isfinite(x).all()
    col = FEATURES.index("cosine_section")
    # "Instant payments: Each payment costs $1" is not about wires; "Wire transfer fees: ..." is.
    assert x[0, col] > x[3, col]
    assert candidate_features("q", [], encode).shape == (0, len(FEATURES))


def test_a_ranker_that_reads_the_heading_orders_by_it() -> None:
    ranked = rank_sentences(
        "how much for a wire?", PASSAGES, encode, ranker=only("cosine_section"), sections=SECTIONS
    )
    assert {ranked[0].passage, ranked[1].passage} == {1}  # both sentences under the wire heading first
    best_second = rank_sentences(
        "how much?", PASSAGES, encode, ranker=only("passage_rank"), sections=SECTIONS
    )
    assert best_second[0].passage == 2  # the weight's sign is obeyed: a later passage wins


def test_completion_and_extract_use_the_ranker() -> None:
    ranker = only("passage_rank")
    extract = best_evidence("fee", PASSAGES, encode, limit=1, ranker=ranker, sections=SECTIONS)
    assert extract.endswith("[2].")
    added = uncovered_top("fee", "", PASSAGES, encode, top=1, ranker=ranker, sections=SECTIONS)
    assert len(added) == 1 and added[0].endswith("[2].")
    # Without an encoder, or one without token vectors, the ranker cannot score: the hand-weighted order.
    assert rank_sentences("fee", PASSAGES, None, ranker=ranker)[0].passage == 1
    assert rank_sentences("fee", PASSAGES, pooled, ranker=ranker) == rank_sentences("fee", PASSAGES, pooled)
    with pytest.raises(ValueError, match="token vectors"):
        candidate_features("fee", candidates(PASSAGES), pooled)


def test_late_interaction_matches_each_question_token_to_its_best_sentence_token() -> None:
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    s = np.array([[1.0, 0.0]])
    sec = np.array([[1.0, 0.0], [0.6, 0.8]])
    f, fs, b, bs = late_interaction(q, s, sec)
    assert (f, b) == (0.5, 1.0)  # one question token found, the other not; the sentence token is found
    assert fs == pytest.approx(0.9) and bs == pytest.approx(0.9)  # the heading's token matches the second
    assert late_interaction(q, np.zeros((0, 2)), sec)[:3:2] == [0.0, 0.0]
    x = candidate_features("wire fee", candidates(PASSAGES, SECTIONS), encode)
    col = FEATURES.index("maxsim")
    assert x[0, col] == pytest.approx(
        1.0, abs=1e-3
    )  # (float16 memory) "Outgoing domestic wires cost $30." has a wire-ish token


def test_the_cached_encoder_remembers_vectors_and_tokens_from_one_pass() -> None:
    calls: list[list[str]] = []

    def counting(texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        calls.append(list(texts))
        return with_tokens(texts)

    enc = CachedEncoder(pooled, encode_with_tokens=counting, max_token_items=2)
    v = enc(["a wire", "b"])
    toks = enc.tokens(["a wire", "b"])
    assert calls == [["a wire", "b"]]  # the tokens came with the vectors
    assert v.shape == (2, 2) and [t.shape for t in toks] == [(2, 2), (1, 2)] and toks[0].dtype == np.float32
    enc.tokens(["c"])  # two token entries at most: "a wire", the oldest, is forgotten
    enc.tokens(["b", "a wire"])
    assert calls[1:] == [["c"], ["a wire"]] and len(enc.token_memory) == 2
    assert CachedEncoder(pooled).tokens is None


def test_save_and_load_round_trip(tmp_path) -> None:
    ranker = SentenceRanker(
        np.arange(len(FEATURES), dtype=float),
        np.ones(len(FEATURES)),
        np.full(len(FEATURES), 2.0),
        {"l2": 0.01},
    )
    path = tmp_path / "r.json"
    path.write_text(ranker.to_json(), encoding="utf-8")
    loaded = SentenceRanker.load(path)
    assert loaded is not None and loaded.meta == {"l2": 0.01}
    x = np.random.default_rng(0).normal(size=(5, len(FEATURES)))
    assert np.allclose(loaded.score(x), ranker.score(x))


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(features=d["features"][:-1]),  # fitted on other features
        lambda d: d.update(weights=d["weights"][:3]),  # wrong length
        lambda d: d.update(scale=[0.0] * len(FEATURES)),  # division by zero
        lambda d: d.pop("mean"),
    ],
)
def test_a_damaged_or_foreign_file_is_refused(tmp_path, change) -> None:
    doc = json.loads(only("cosine").to_json())
    change(doc)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert SentenceRanker.load(path) is None
    with pytest.raises(ValueError, match="finetune sentence-ranker"):
        ranker_for(str(path))
    (tmp_path / "junk.json").write_bytes(b"\xff\x00not json")
    assert SentenceRanker.load(tmp_path / "junk.json") is None


def test_configuration_picks_the_ranker(tmp_path) -> None:
    assert ranker_for("none") is None and ranker_for(" NONE ") is None
    packaged = ranker_for("")
    assert (packaged is None) == (not DEFAULT_PATH.is_file())
    with pytest.raises(BotConfigError, match="not a file"):
        BotConfig(sentence_ranker=str(tmp_path / "missing.json"))
    assert BotConfig(sentence_ranker="none").sentence_ranker == "none"


def test_the_packaged_ranker_loads_and_was_fitted_on_these_features() -> None:
    ranker = SentenceRanker.load(DEFAULT_PATH)
    assert ranker is not None, (
        "bot/models/sentence_ranker.json is missing: python -m finetune sentence-ranker"
    )
    assert ranker.meta["training"]["sentence_train"][
        "used"
    ] > 500 and ranker.weights.argmax() == FEATURES.index("maxsim_section")
    assert Candidate("s", 1, 0).section == ""
