"""Train the three heads on frozen all-MiniLM-L6-v2 embeddings: multinomial logistic regression
(scikit-learn), then a calibration temperature fitted on a held-back validation split by minimising
negative log-likelihood. Writes `bot/models/{risk,sentiment,intent}.npz` and returns a report.

The recipe (regularisation, splits, seeds) comes from `finetune/recipes/classifiers.yaml`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.classifiers.head import LinearHead
from bot.classifiers.models import MODELS_DIR, vader_features
from knowledge.ngram_fit import fit_with_ngrams

from . import data
from .embed_cache import embed_texts

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "classifiers.yaml"


@dataclass
class ClassifierRecipe:
    seed: int = 0
    banking77_test_size: float = 0.2
    validation_size: float = 0.1
    intent_c: float = 10.0
    risk_c: float = 1.0
    risk_written_weight: float = 8.0
    risk_logit_offsets: dict[str, float] = field(default_factory=dict)
    risk_ngrams: bool = False
    sentiment_c: float = 2.0
    sentiment_ngrams: bool = False
    max_iter: int = 3000
    out_dir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = RECIPE) -> ClassifierRecipe:
        raw = yaml.safe_load(Path(path).read_text()) or {}
        known = {k: raw.pop(k) for k in list(raw) if k in cls.__dataclass_fields__}
        return cls(**known, extra=raw)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising validation NLL (grid search over 0.2..5, log-spaced)."""
    best_t, best_nll = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.2), np.log(5.0), 80)):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -float(logp[np.arange(len(y)), y].mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return round(best_t, 4)


def fit_head(
    x: Any,
    labels: list[str],
    *,
    c: float,
    seed: int,
    val_size: float,
    max_iter: int,
    embedding_model: str,
    balanced: bool,
    meta: dict[str, Any],
    sample_weight: np.ndarray | None = None,
    logit_offsets: dict[str, float] | None = None,
) -> LinearHead:
    """Logistic regression on a stratified training split, then a temperature fitted on the rest. `x` is
    dense or a scipy sparse matrix (embedding plus n-grams).

    `logit_offsets` (label -> offset) are added to those labels' intercepts before the temperature is fitted:
    a cost-sensitive decision rule (favour a category when in doubt) that the stored head applies as is.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    classes = sorted(set(labels))
    y = np.array([classes.index(v) for v in labels])
    tr, va = train_test_split(np.arange(len(y)), test_size=val_size, random_state=seed, stratify=y)
    clf = LogisticRegression(C=c, max_iter=max_iter, class_weight="balanced" if balanced else None)
    clf.fit(x[tr], y[tr], sample_weight=None if sample_weight is None else sample_weight[tr])
    coef, intercept, val_logits = clf.coef_, clf.intercept_, clf.decision_function(x[va])
    if len(classes) == 2:  # binary LR: softmax over [0, w.x + b] gives the same probabilities
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
        val_logits = np.column_stack([np.zeros_like(val_logits), val_logits])
    offsets = np.zeros(len(classes))
    for label, value in (logit_offsets or {}).items():
        if label not in classes:
            raise ValueError(f"logit offset for unknown label {label!r} (labels: {classes})")
        offsets[classes.index(label)] = value
    intercept = intercept + offsets
    val_logits = val_logits + offsets
    temperature = fit_temperature(val_logits, y[va])
    return LinearHead(
        weights=coef.astype(np.float32),
        bias=intercept.astype(np.float32),
        labels=classes,
        temperature=temperature,
        embedding_model=embedding_model,
        meta={
            **meta,
            "C": c,
            "train_rows": len(tr),
            "validation_rows": len(va),
            "temperature": temperature,
            **({"logit_offsets": {k: float(v) for k, v in logit_offsets.items()}} if logit_offsets else {}),
        },
    )


def sentiment_features(emb: np.ndarray, texts: list[str]) -> np.ndarray:
    return np.hstack([emb, np.vstack([vader_features(t) for t in texts])]).astype(np.float32)


def train_all(embedder: Any, recipe: ClassifierRecipe, *, progress: bool = True) -> dict[str, Any]:
    out_dir = Path(recipe.out_dir) if recipe.out_dir else MODELS_DIR
    name = embedder.model_name
    report: dict[str, Any] = {"embedding_model": name, "out_dir": str(out_dir)}
    t0 = time.perf_counter()

    b77 = data.banking77()
    b77_train, _ = data.banking77_split(b77, recipe.banking77_test_size, recipe.seed)
    b77_rows = [b77[i] for i in b77_train]
    risk_map = data.banking77_risk_map()
    extra_risk = data.nlupp() + data.written_risk()
    sent = data.sentiment("train")

    e_b77 = embed_texts(embedder, [r.text for r in b77_rows], desc="Embedding Banking77", progress=progress)
    e_extra = embed_texts(
        embedder, [r.text for r in extra_risk], desc="Embedding NLU++ and written risk", progress=progress
    )
    e_sent = embed_texts(embedder, [r.text for r in sent], desc="Embedding sentiment", progress=progress)

    common = {
        "seed": recipe.seed,
        "val_size": recipe.validation_size,
        "max_iter": recipe.max_iter,
        "embedding_model": name,
    }
    intent = fit_head(
        e_b77,
        [r.label for r in b77_rows],
        c=recipe.intent_c,
        balanced=False,
        meta={"task": "banking77 intent", "sources": ["banking77"]},
        **common,
    )
    risk_labels = [risk_map[r.label] for r in b77_rows] + [r.label for r in extra_risk]
    weights = np.array(
        [1.0] * len(b77_rows)
        + [recipe.risk_written_weight if r.source == "written" else 1.0 for r in extra_risk]
    )
    risk_x, ngrams = np.vstack([e_b77, e_extra]), None
    if recipe.risk_ngrams:
        ngrams, risk_x = fit_with_ngrams(risk_x, [r.text for r in b77_rows] + [r.text for r in extra_risk])
    risk = fit_head(
        risk_x,
        risk_labels,
        c=recipe.risk_c,
        balanced=True,
        sample_weight=weights,
        logit_offsets=recipe.risk_logit_offsets,
        meta={
            "task": "risk",
            "sources": ["banking77", "nlupp", "written"],
            "written_weight": recipe.risk_written_weight,
            "rows_by_category": {c: risk_labels.count(c) for c in data.RISK_CATEGORIES},
            "features": "embedding + word/char n-grams" if ngrams else "embedding",
        },
        **common,
    )
    risk.ngrams = ngrams
    sent_texts = [r.text for r in sent]
    sent_x, sent_ngrams = sentiment_features(e_sent, sent_texts), None
    if recipe.sentiment_ngrams:
        sent_ngrams, sent_x = fit_with_ngrams(sent_x, sent_texts)
    sentiment = fit_head(
        sent_x,
        [r.label for r in sent],
        c=recipe.sentiment_c,
        balanced=True,
        meta={
            "task": "sentiment",
            "sources": ["written"],
            "features": "embedding + VADER(4)" + (" + word/char n-grams" if sent_ngrams else ""),
        },
        **common,
    )
    sentiment.ngrams = sent_ngrams
    for fname, head in (("intent.npz", intent), ("risk.npz", risk), ("sentiment.npz", sentiment)):
        head.save(out_dir / fname)
        report[fname] = {k: head.meta[k] for k in ("train_rows", "validation_rows", "temperature", "C")}
    report["seconds"] = round(time.perf_counter() - t0, 1)
    return report
