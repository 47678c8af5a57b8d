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
SCOPE_TRAIN_GLOB = "scope_train*.jsonl"  # in knowledge/eval/


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


def _weighted_f1(p_ans: np.ndarray, y: np.ndarray, threshold: float, w_ans: float) -> float:
    """F1 of the no-answer class, with answerable rows weighted to reproduce the deployment prior."""
    pred_no = p_ans < threshold
    tp = float(((pred_no) & (y == 0)).sum())
    fp = float(((pred_no) & (y == 1)).sum()) * w_ans
    fn = float(((~pred_no) & (y == 0)).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def train(
    x: np.ndarray,
    y: np.ndarray,
    embedding_model: str,
    *,
    answerable_prior: float = 0.85,
    c_grid: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0),
    sources: list[Path] | None = None,
) -> tuple[ScopeModel, dict[str, float]]:
    """Fit an L2 logistic regression. The regularisation C and the decision threshold are chosen together by
    5-fold cross-validation on the training questions, maximising no-answer F1 with answerable rows
    re-weighted so that they make up `answerable_prior` of the traffic (the training file is balanced; real
    traffic is mostly answerable). The evaluation set plays no part in this choice."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    n_ans, n_no = int(y.sum()), int((y == 0).sum())
    w_ans = answerable_prior / (1 - answerable_prior) * n_no / max(1, n_ans)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    thresholds = np.round(np.arange(0.05, 0.951, 0.025), 3)
    best = (-1.0, 1.0, 0.5)
    for c in c_grid:
        p = cross_val_predict(LogisticRegression(C=c, max_iter=3000), x, y, cv=folds, method="predict_proba")[
            :, 1
        ]
        for t in thresholds:
            f = _weighted_f1(p, y, float(t), w_ans)
            if f > best[0]:
                best = (f, c, float(t))
    cv_f1, c, threshold = best
    clf = LogisticRegression(C=c, max_iter=3000).fit(x, y)
    cv = {"cv_prior_weighted_no_answer_f1": round(cv_f1, 4), "answerable_prior": answerable_prior}
    meta = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples": len(y),
        "answerable": n_ans,
        "unanswerable": n_no,
        "C": c,
        "threshold": threshold,
        **cv,
    }
    if sources:
        meta["training_files"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sources}
    model = ScopeModel(
        weights=clf.coef_[0].astype(np.float32),
        bias=float(clf.intercept_[0]),
        embedding_model=embedding_model,
        threshold=threshold,
        meta=meta,
    )
    return model, cv
