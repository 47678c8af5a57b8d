"""The scope model: does the library answer this question at all? A logistic regression on the query's
embedding, retrieval features (top cosine, the gap to the fifth passage, BM25 evidence) and the question's
word and character n-grams (knowledge/ngrams.py), trained on `knowledge/eval/scope_train*.jsonl` (questions
written for training, never the evaluation set).

A cosine threshold alone cannot tell "what's Chase's overdraft fee" or "can I buy bitcoin in the app" from
"what's your overdraft fee": all three retrieve the overdraft page with high similarity. The query embedding
carries part of what the threshold misses; the n-grams carry the words that decide it ("my", "did",
"heloc", a bank's name) and misspellings of them. Measured (2026-11-26) on knowledge/eval/questions.jsonl,
which no model was trained or tuned on: no-answer F1 0.847 for the embedding-only model, 0.89-0.91 with
n-grams (knowledge/models/README.md).

The weights are JSON (the n-gram vocabulary and idf included), tied to the embedding model they were
trained with; with no matching model file the retriever falls back to the calibrated cosine threshold.
This module does not retrieve; it is given the retrieval features and the question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import PACKAGE_DIR
from .ngrams import NgramVectorizer

DEFAULT_SCOPE_MODEL = PACKAGE_DIR / "models" / "scope.json"
SCOPE_TRAIN_GLOB = "scope_train*.jsonl"  # in knowledge/eval/


def retrieval_features(top_scores: np.ndarray, bm25_top: float) -> np.ndarray:
    """[top cosine, top - fifth cosine, log1p(best BM25 score)]: scale-free enough to transfer across queries."""
    s = np.sort(np.asarray(top_scores, dtype=np.float32))[::-1]
    top = float(s[0]) if len(s) else 0.0
    fifth = float(s[min(4, len(s) - 1)]) if len(s) else 0.0
    return np.array([top, top - fifth, np.log1p(max(bm25_top, 0.0))], dtype=np.float32)


@dataclass
class ScopeModel:
    weights: np.ndarray  # query embedding then the 3 retrieval features
    bias: float
    embedding_model: str
    threshold: float = 0.5
    meta: dict[str, Any] | None = None
    ngrams: NgramVectorizer | None = None  # the question's n-grams, when the model reads them
    ngram_weights: np.ndarray | None = None  # one weight per n-gram feature (already times the block's scale)

    def probability(self, query_vec: np.ndarray, feats: np.ndarray, text: str = "") -> float:
        """P(the library answers the question): `text` is the question, read for its n-grams."""
        x = np.concatenate([np.asarray(query_vec, dtype=np.float32), feats])
        z = float(x @ self.weights + self.bias)
        if self.ngrams is not None and self.ngram_weights is not None and text:
            z += float(self.ngrams.dot(text, self.ngram_weights))
        return float(1.0 / (1.0 + np.exp(-z)))

    def answerable(self, query_vec: np.ndarray, feats: np.ndarray, text: str = "") -> bool:
        return self.probability(query_vec, feats, text) >= self.threshold

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {
            "embedding_model": self.embedding_model,
            "threshold": self.threshold,
            "bias": self.bias,
            "weights": [round(float(w), 6) for w in self.weights],
            "meta": self.meta or {},
        }
        if self.ngrams is not None and self.ngram_weights is not None:
            data["ngrams"] = {
                **{
                    k: [round(float(x), 5) for x in v] if v.dtype.kind == "f" else v.tolist()
                    for k, v in self.ngrams.state().items()
                },
                "weights": [round(float(w), 6) for w in self.ngram_weights],
            }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=0, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, embedding_model: str, dim: int) -> ScopeModel | None:
        """The model at `path` if it exists and was trained for this embedding model and dimension."""
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        weights = np.asarray(data["weights"], dtype=np.float32)
        if data.get("embedding_model") != embedding_model or len(weights) != dim + 3:
            return None
        ngrams, ngram_weights = None, None
        if ng := data.get("ngrams"):
            ngrams = NgramVectorizer.from_state(ng)
            ngram_weights = np.asarray(ng["weights"], dtype=np.float32)
            if len(ngram_weights) != ngrams.size:
                return None
        return cls(
            weights=weights,
            bias=float(data["bias"]),
            embedding_model=embedding_model,
            threshold=float(data.get("threshold", 0.5)),
            meta=data.get("meta"),
            ngrams=ngrams,
            ngram_weights=ngram_weights,
        )
