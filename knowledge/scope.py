"""The scope model: does the library answer this question at all? A logistic regression on the query's
embedding plus retrieval features (top cosine, the gap to the fifth passage, BM25 evidence), trained on
`knowledge/eval/scope_train.jsonl` (questions written for training, never the evaluation set).

A cosine threshold alone cannot tell "what's Chase's overdraft fee" or "can I buy bitcoin in the app" from
"what's your overdraft fee": all three retrieve the overdraft page with high similarity. The query embedding
carries what the threshold misses (another bank's name, a product the bank does not sell, a question about
the customer's own balance).

The weights are a few kilobytes of JSON, tied to the embedding model they were trained with; with no
matching model file the retriever falls back to the calibrated cosine threshold. This module does not
retrieve; it is given the retrieval features.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .config import PACKAGE_DIR

DEFAULT_SCOPE_MODEL = PACKAGE_DIR / "models" / "scope.json"
DEFAULT_SCOPE_TRAIN = PACKAGE_DIR / "eval" / "scope_train.jsonl"


def retrieval_features(top_scores: np.ndarray, bm25_top: float) -> np.ndarray:
    """[top cosine, top - fifth cosine, log1p(best BM25 score)]: scale-free enough to transfer across queries."""
    s = np.sort(np.asarray(top_scores, dtype=np.float32))[::-1]
    top = float(s[0]) if len(s) else 0.0
    fifth = float(s[min(4, len(s) - 1)]) if len(s) else 0.0
    return np.array([top, top - fifth, np.log1p(max(bm25_top, 0.0))], dtype=np.float32)


@dataclass
class ScopeModel:
    weights: np.ndarray
    bias: float
    embedding_model: str
    threshold: float = 0.5
    meta: dict[str, Any] | None = None

    def probability(self, query_vec: np.ndarray, feats: np.ndarray) -> float:
        x = np.concatenate([np.asarray(query_vec, dtype=np.float32), feats])
        z = float(x @ self.weights + self.bias)
        return float(1.0 / (1.0 + np.exp(-z)))

    def answerable(self, query_vec: np.ndarray, feats: np.ndarray) -> bool:
        return self.probability(query_vec, feats) >= self.threshold

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "embedding_model": self.embedding_model,
            "threshold": self.threshold,
            "bias": self.bias,
            "weights": [round(float(w), 6) for w in self.weights],
            "meta": self.meta or {},
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, embedding_model: str, dim: int) -> ScopeModel | None:
        """The model at `path` if it exists and was trained for this embedding model and dimension."""
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        weights = np.asarray(data["weights"], dtype=np.float32)
        if data.get("embedding_model") != embedding_model or len(weights) != dim + 3:
            return None
        return cls(
            weights=weights,
            bias=float(data["bias"]),
            embedding_model=embedding_model,
            threshold=float(data.get("threshold", 0.5)),
            meta=data.get("meta"),
        )


def train(
    x: np.ndarray, y: np.ndarray, embedding_model: str, *, c: float = 1.0, source: Path | None = None
) -> tuple[ScopeModel, dict[str, float]]:
    """Fit a balanced L2 logistic regression; report 5-fold cross-validated F1 of the no-answer class."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    pred = cross_val_predict(clf, x, y, cv=5)
    tp = int(((pred == 0) & (y == 0)).sum())
    fp = int(((pred == 0) & (y == 1)).sum())
    fn = int(((pred == 1) & (y == 0)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    cv = {
        "cv_no_answer_precision": round(p, 4),
        "cv_no_answer_recall": round(r, 4),
        "cv_no_answer_f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
    }
    clf.fit(x, y)
    meta = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples": len(y),
        "answerable": int(y.sum()),
        "unanswerable": int((y == 0).sum()),
        "C": c,
        **cv,
    }
    if source is not None:
        meta["training_file"] = source.name
        meta["training_sha256"] = hashlib.sha256(source.read_bytes()).hexdigest()
    model = ScopeModel(
        weights=clf.coef_[0].astype(np.float32),
        bias=float(clf.intercept_[0]),
        embedding_model=embedding_model,
        meta=meta,
    )
    return model, cv
