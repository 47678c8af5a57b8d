"""The bot's NumPy n-gram features reproduce scikit-learn's TfidfVectorizer transform they were fitted
with (knowledge/ngram_fit.py), including awkward text, and a head with n-grams saves, loads and
scores the same."""

from __future__ import annotations

import numpy as np
import pytest

from bot.classifiers.head import LinearHead
from knowledge.ngram_fit import fit_ngrams, with_ngrams

CORPUS = [
    "Someone used my card in Tucson and I never authorised it",
    "I lost my debit card yesterday, please block it",
    "my phone was stolen and my banking app is on it",
    "How do I open a savings account?",
    "I got a text asking for my PIN, is it a scam?",
    "I can't pay my loan this month, I lost my job",
    "I want to complain about the fee you charged me",
    "should I invest in bonds or stocks",
    "card card card blocked blocked",
    "There's a charge I don't recognise on my statement",
] * 3
AWKWARD = [
    "Someone  used my   CARD in tucson!!",
    "a b c d",  # single-character words: no word tokens, short char n-grams
    "I I I I lost lost",
    "Café déjà vu: crème brûlée €5",
    "😡😡 my card 💳 was stolen",
    "пароль украли, карта заблокирована",
    "<b>fraud</b> on acct #12345",
    "",
    "unseenword anotherunseen",
    "tab\tseparated\nnew line",
]


@pytest.fixture(scope="module")
def fitted():
    return fit_ngrams(CORPUS)


def test_numpy_transform_matches_scikit_learn(fitted) -> None:
    shipped, union = fitted
    reference = union.transform(CORPUS[:10] + AWKWARD).toarray()
    for row, text in enumerate(CORPUS[:10] + AWKWARD):
        idx, val = shipped.transform(text)
        mine = np.zeros(shipped.size)
        mine[idx] = val
        assert np.allclose(mine, reference[row], atol=1e-6), text
    assert shipped.size == reference.shape[1]


def test_a_head_with_ngrams_scores_like_its_training_matrix_and_survives_save(fitted, tmp_path) -> None:
    shipped, union = fitted
    rng = np.random.default_rng(0)
    dense = rng.standard_normal((len(AWKWARD), 4)).astype(np.float32)
    weights = rng.standard_normal((3, 4 + shipped.size)).astype(np.float32)
    head = LinearHead(weights, np.zeros(3, np.float32), ["a", "b", "c"], ngrams=shipped)
    expected = with_ngrams(dense, AWKWARD, union) @ weights.T
    assert head.n_features == 4
    assert np.allclose(head.logits(dense, AWKWARD), expected, atol=1e-4)
    head.save(tmp_path / "h.npz")
    again = LinearHead.load(tmp_path / "h.npz")
    assert again.ngrams is not None and again.ngrams.size == shipped.size
    assert np.allclose(again.predict_proba(dense, AWKWARD), head.predict_proba(dense, AWKWARD))
    with pytest.raises(ValueError, match="n-grams"):
        head.logits(dense)  # texts are needed
