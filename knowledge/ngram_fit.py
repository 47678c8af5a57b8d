"""Fit the word and character n-gram features a model may read next to the sentence embedding (the scope
model, the bot's classifier heads): two scikit-learn `TfidfVectorizer`s (word 1-2-grams, min_df 2;
`char_wb` 3-5-grams, min_df 3; sublinear tf, each part L2-normalised), turned into the NumPy
`NgramVectorizer` that serving uses (knowledge/ngrams.py), which reproduces their transform without
scikit-learn. Training only; the settings are fixed here so that
training, selection and serving agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ngrams import CHAR_RANGE, WORD_RANGE, NgramVectorizer

WORD_MIN_DF = 2
CHAR_MIN_DF = 3


def fit_ngrams(texts: list[str]) -> tuple[NgramVectorizer, Any]:
    """(the shipped vectorizer, a scikit-learn union with the same transform) fitted on `texts`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    word = TfidfVectorizer(ngram_range=WORD_RANGE, min_df=WORD_MIN_DF, sublinear_tf=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_RANGE, min_df=CHAR_MIN_DF, sublinear_tf=True)
    union = FeatureUnion([("word", word), ("char", char)]).fit(texts)

    def terms(v: Any) -> list[str]:
        out = [""] * len(v.vocabulary_)
        for term, i in v.vocabulary_.items():
            out[i] = term
        return out

    shipped = NgramVectorizer(
        terms(word), word.idf_.astype(np.float32), terms(char), char.idf_.astype(np.float32)
    )
    return shipped, union


def with_ngrams(dense: np.ndarray, texts: list[str], union: Any, scale: float = 1.0) -> Any:
    """Dense features then the n-gram features times `scale`, as one sparse matrix (the model's column
    order); the dense features alone when `scale` is 0."""
    from scipy import sparse

    if not scale:
        return sparse.csr_matrix(dense)
    ngrams = union.transform(texts)
    return sparse.hstack([sparse.csr_matrix(dense), ngrams if scale == 1.0 else scale * ngrams]).tocsr()


def fit_with_ngrams(dense: np.ndarray, texts: list[str]) -> tuple[NgramVectorizer, Any]:
    """Fit the n-grams on `texts` and return (the shipped vectorizer, dense + n-gram features of `texts`)."""
    shipped, union = fit_ngrams(texts)
    return shipped, with_ngrams(dense, texts, union)


def fold_features(
    dense: np.ndarray, texts: list[str], train: np.ndarray, scored: np.ndarray, ngrams: bool
) -> tuple[Any, Any]:
    """A cross-validation fold's training and scored rows: the dense features, plus (`ngrams`) the n-grams
    fitted on the fold's training texts only."""
    if not ngrams:
        return dense[train], dense[scored]
    _, union = fit_ngrams([texts[i] for i in train])
    return (
        with_ngrams(dense[train], [texts[i] for i in train], union),
        with_ngrams(dense[scored], [texts[i] for i in scored], union),
    )
