"""Train the scope model: embed the training questions, retrieve for each (the same features the retriever
computes at query time), fit, save, and return the model's metadata with cross-validated figures.
Kept apart from `scope.py` so that serving never imports scikit-learn.

The fit: an L2 logistic regression on [query embedding, retrieval features, the question's n-grams times a
scale]. C, the n-gram scale (0 = embedding and retrieval features only) and the decision threshold are
chosen together by 5-fold cross-validation on the training questions (the n-grams fitted on each fold's
training questions only), maximising no-answer F1 with answerable rows re-weighted so that they make up
`answerable_prior` of the traffic (the training files are about balanced; real traffic is mostly
answerable). No evaluation set plays any part in the choice.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .ngram_fit import fit_ngrams, with_ngrams
from .retriever import Retriever
from .scope import ScopeModel

C_GRID = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
NGRAM_SCALES = (0.0, 0.5, 1.0)  # weight of the n-gram block against the dense features; 0 leaves it out
THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.025), 3)


def features_for(retriever: Retriever, questions: list[str], progress: bool = True) -> np.ndarray:
    vecs = retriever.embedder.encode(questions, batch_size=64)
    rows = []
    for q, v in tqdm(list(zip(questions, vecs, strict=True)), desc="Scope features", disable=not progress):
        res = retriever.retrieve(q, query_vector=v)
        rows.append(np.concatenate([v, np.asarray(res.features, dtype=np.float32)]))
    return np.vstack(rows)


def weighted_f1(p_ans: np.ndarray, y: np.ndarray, threshold: float, w_ans: float) -> float:
    """F1 of the no-answer class, with answerable rows weighted to reproduce the deployment prior."""
    pred_no = p_ans < threshold
    tp = float((pred_no & (y == 0)).sum())
    fp = float((pred_no & (y == 1)).sum()) * w_ans
    fn = float((~pred_no & (y == 0)).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def train(
    x: np.ndarray,
    y: np.ndarray,
    texts: list[str],
    embedding_model: str,
    *,
    answerable_prior: float = 0.85,
    c_grid: tuple[float, ...] = C_GRID,
    ngram_scales: tuple[float, ...] = NGRAM_SCALES,
    sources: list[Path] | None = None,
    progress: bool = False,
) -> tuple[ScopeModel, dict[str, Any]]:
    """Fit the scope model on features `x` (embedding + retrieval features), labels `y` (1 = answerable)
    and the questions `texts`; return it with the cross-validated figures of every setting tried."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    n_ans, n_no = int(y.sum()), int((y == 0).sum())
    w_ans = answerable_prior / (1 - answerable_prior) * n_no / max(1, n_ans)
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(x, y))
    unions = [fit_ngrams([texts[i] for i in tr])[1] if any(ngram_scales) else None for tr, _ in folds]
    grid = [(s, c) for s in ngram_scales for c in c_grid]
    best: tuple[float, float, float, float] = (-1.0, 0.0, 1.0, 0.5)  # f1, scale, C, threshold
    tried: dict[str, float] = {}
    designs: dict[float, list[tuple[Any, Any]]] = {}  # per scale, each fold's (training, scored) matrices
    for scale, c in tqdm(grid, desc="Scope settings", disable=not progress):
        if scale not in designs:
            designs[scale] = [
                (
                    with_ngrams(x[tr], [texts[i] for i in tr], union, scale),
                    with_ngrams(x[te], [texts[i] for i in te], union, scale),
                )
                for (tr, te), union in zip(folds, unions, strict=True)
            ]
        p = np.zeros(len(y))
        for (tr, te), (xtr, xte) in zip(folds, designs[scale], strict=True):
            p[te] = LogisticRegression(C=c, max_iter=3000).fit(xtr, y[tr]).predict_proba(xte)[:, 1]
        f, t = max((weighted_f1(p, y, float(t), w_ans), float(t)) for t in THRESHOLDS)
        tried[f"ngram_scale={scale} C={c}"] = round(f, 4)
        if f > best[0]:
            best = (f, scale, c, t)
    cv_f1, scale, c, threshold = best
    shipped, union = fit_ngrams(texts) if scale else (None, None)
    clf = LogisticRegression(C=c, max_iter=3000).fit(with_ngrams(x, texts, union, scale), y)
    coef = clf.coef_[0].astype(np.float32)
    dim = x.shape[1]
    cv: dict[str, Any] = {
        "cv_prior_weighted_no_answer_f1": round(cv_f1, 4),
        "answerable_prior": answerable_prior,
        "cv_by_setting": tried,
    }
    meta = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples": len(y),
        "answerable": n_ans,
        "unanswerable": n_no,
        "C": c,
        "ngram_scale": scale,
        "threshold": threshold,
        **cv,
    }
    if sources:
        meta["training_files"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sources}
    model = ScopeModel(
        weights=coef[:dim],
        bias=float(clf.intercept_[0]),
        embedding_model=embedding_model,
        threshold=threshold,
        meta=meta,
        ngrams=shipped,
        ngram_weights=coef[dim:] * scale if shipped is not None else None,
    )
    return model, cv


def train_scope(
    retriever: Retriever,
    train_files: list[Path],
    out: Path,
    *,
    answerable_prior: float = 0.85,
    progress: bool = True,
) -> dict[str, Any]:
    rows = [json.loads(x) for f in train_files for x in Path(f).read_text("utf-8").splitlines() if x.strip()]
    texts = [r["question"] for r in rows]
    x = features_for(retriever, texts, progress)
    y = np.array([1 if r["answerable"] else 0 for r in rows])
    model, _ = train(
        x,
        y,
        texts,
        retriever.index.model,
        answerable_prior=answerable_prior,
        sources=[Path(f) for f in train_files],
        progress=progress,
    )
    model.save(out)
    return model.meta or {}
