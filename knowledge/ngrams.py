"""Word and character n-gram features of a message, computed the way scikit-learn's `TfidfVectorizer`
computes them at training time (knowledge/ngram_fit.py), in NumPy, so serving needs no scikit-learn:
word 1- and 2-grams (tokens of two or more word characters, lowercased) and character 3- to 5-grams
inside word boundaries (`char_wb`), each with sublinear term frequency (1 + log tf) times the stored idf,
each part L2-normalised, the char part's indices after the word part's.

A model that reads these features stores the vocabulary and idf next to its weights: the scope model
(knowledge/scope.py) and the bot's classifier heads (bot/classifiers/head.py, through `knowledge`'s public
API). This module only transforms; it never fits, and it ignores n-grams outside the vocabulary.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
_SPACES = re.compile(r"\s\s+")
WORD_RANGE = (1, 2)
CHAR_RANGE = (3, 5)


def word_ngrams(text: str, lo: int = WORD_RANGE[0], hi: int = WORD_RANGE[1]) -> list[str]:
    tokens = _WORD.findall(text.lower())
    out: list[str] = []
    for n in range(lo, hi + 1):
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


def char_wb_ngrams(text: str, lo: int = CHAR_RANGE[0], hi: int = CHAR_RANGE[1]) -> list[str]:
    """scikit-learn's `_char_wb_ngrams`: each word padded with one space either side; a word shorter than
    n gives itself (padded) once."""
    out: list[str] = []
    for word in _SPACES.sub(" ", text.lower()).split():
        w = f" {word} "
        size = len(w)
        for n in range(lo, hi + 1):
            offset = 0
            out.append(w[offset : offset + n])
            while offset + n < size:
                offset += 1
                out.append(w[offset : offset + n])
            if offset == 0:  # count a short word once
                break
    return out


@lru_cache(maxsize=256)
def message_ngrams(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(word n-grams, char n-grams) of a message, remembered for the last 256 messages: the scope model and
    the risk and sentiment heads read the same turn's text with their own vocabularies."""
    return tuple(word_ngrams(text)), tuple(char_wb_ngrams(text))


@dataclass
class NgramVectorizer:
    word_terms: list[str]  # term at each word-feature index
    word_idf: np.ndarray
    char_terms: list[str]
    char_idf: np.ndarray

    def __post_init__(self) -> None:
        self._word = {t: i for i, t in enumerate(self.word_terms)}
        self._char = {t: i for i, t in enumerate(self.char_terms)}

    @property
    def size(self) -> int:
        return len(self.word_terms) + len(self.char_terms)

    def transform(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices, values) of `text`: the non-zero entries of its n-gram vector."""
        idx: list[int] = []
        val: list[float] = []
        words, chars = message_ngrams(text)
        parts = (
            (words, self._word, self.word_idf, 0),
            (chars, self._char, self.char_idf, len(self.word_terms)),
        )
        for grams, vocab, idf, offset in parts:
            counts = Counter(vocab[g] for g in grams if g in vocab)
            if not counts:
                continue
            cols = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.array([1.0 + math.log(counts[c]) for c in cols]) * idf[cols]
            tf /= np.linalg.norm(tf)
            idx.extend((cols + offset).tolist())
            val.extend(tf.tolist())
        return np.array(idx, dtype=np.int64), np.array(val, dtype=np.float32)

    def dot(self, text: str, weights: np.ndarray) -> np.ndarray:
        """`text`'s n-gram vector times `weights` along their last axis (one weight per n-gram feature):
        a scalar for a weight vector, one value per row for a (classes, n-grams) matrix."""
        idx, val = self.transform(text)
        return weights[..., idx] @ val

    def state(self) -> dict[str, np.ndarray]:
        """The vocabulary and idf as arrays, to be stored beside a model's weights (`from_state` reads it)."""
        return {
            "word_terms": np.array(self.word_terms),
            "word_idf": self.word_idf.astype(np.float32),
            "char_terms": np.array(self.char_terms),
            "char_idf": self.char_idf.astype(np.float32),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, object]) -> NgramVectorizer:
        """The vectorizer `state()` stored (arrays, or the lists a JSON file holds)."""
        return cls(
            [str(t) for t in state["word_terms"]],  # type: ignore[attr-defined]
            np.asarray(state["word_idf"], dtype=np.float32),
            [str(t) for t in state["char_terms"]],  # type: ignore[attr-defined]
            np.asarray(state["char_idf"], dtype=np.float32),
        )
