"""A linear softmax head over a fixed feature vector (the turn's sentence embedding, plus a few extra
features for sentiment) and, when it was trained with them, the message's word and character n-grams
(knowledge/ngrams.py), with a calibration temperature. Stored as a small `.npz` file: weights, bias,
labels, temperature, the embedding model it expects, and the n-gram vocabulary and idf if any.

Training lives in `finetune/`; this module only predicts. NumPy only: a head costs microseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge import NgramVectorizer


class HeadMismatchError(RuntimeError):
    """The head was trained for another embedding model or feature size; retrain it."""


@dataclass
class LinearHead:
    weights: np.ndarray  # (classes, features): the dense features', then the n-grams' (if any)
    bias: np.ndarray  # (classes,)
    labels: list[str]
    temperature: float = 1.0
    embedding_model: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    ngrams: NgramVectorizer | None = None

    @property
    def n_features(self) -> int:
        """Size of the dense feature vector the caller passes (the n-grams are computed from the text)."""
        return int(self.weights.shape[1]) - (self.ngrams.size if self.ngrams else 0)

    def logits(self, x: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        """Logits of the dense rows `x` and, for a head with n-gram features, of their `texts`."""
        dense = self.n_features
        z = np.atleast_2d(np.asarray(x, dtype=np.float32)) @ self.weights[:, :dense].T + self.bias
        if self.ngrams is None:
            return z
        if texts is None or len(texts) != len(z):
            raise ValueError("this head reads the messages' n-grams: pass one text per row")
        for row, text in enumerate(texts):
            z[row] += self.ngrams.dot(text, self.weights[:, dense:])
        return z

    def predict_proba(self, x: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        z = self.logits(x, texts) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(
            tmp,
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            labels=np.array(self.labels),
            temperature=np.float32(self.temperature),
            embedding_model=np.array(self.embedding_model),
            meta=np.array(json.dumps(self.meta)),
            **(self.ngrams.state() if self.ngrams else {}),
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, embedding_model: str | None = None) -> LinearHead:
        if not Path(path).is_file():
            raise FileNotFoundError(
                f"classifier head {path} not found; train it with `python -m finetune classifiers`"
            )
        with np.load(path, allow_pickle=False) as z:
            head = cls(
                weights=z["weights"],
                bias=z["bias"],
                labels=[str(x) for x in z["labels"]],
                temperature=float(z["temperature"]),
                embedding_model=str(z["embedding_model"]),
                meta=json.loads(str(z["meta"])),
                ngrams=NgramVectorizer.from_state(z) if "word_terms" in z.files else None,
            )
        if embedding_model is not None and head.embedding_model != embedding_model:
            raise HeadMismatchError(
                f"{path} was trained on embeddings of '{head.embedding_model}', not '{embedding_model}'; "
                "retrain with `python -m finetune classifiers`"
            )
        return head
