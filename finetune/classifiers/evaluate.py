"""Evaluate the committed heads on held-out data: per-class precision, recall and F1, macro-F1,
confusion matrices, expected calibration error (15 bins), Banking77 accuracy on its held-out rows, the
VADER-only sentiment baseline in the same run, and latency of both classifiers (heads only, given the
turn's embedding, and with the embedding)."""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np

from bot.classifiers import TurnClassifiers, prepare
from bot.classifiers.models import HIGH_RISK, vader_features

from . import data
from .embed_cache import embed_texts
from .train import ClassifierRecipe, sentiment_features


def ece(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return round(float(total), 4)


def per_class(y_true: list[str], y_pred: list[str], labels: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lab in labels:
        tp = sum(t == lab and p == lab for t, p in zip(y_true, y_pred, strict=True))
        fp = sum(t != lab and p == lab for t, p in zip(y_true, y_pred, strict=True))
        fn = sum(t == lab and p != lab for t, p in zip(y_true, y_pred, strict=True))
        pr = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        out[lab] = {
            "precision": round(pr, 4),
            "recall": round(rc, 4),
            "f1": round(2 * pr * rc / (pr + rc), 4) if pr + rc else 0.0,
            "support": tp + fn,
        }
    return out


def summary(y_true: list[str], y_pred: list[str], labels: list[str], probs: np.ndarray | None = None) -> dict:
    pc = per_class(y_true, y_pred, labels)
    res = {
        "accuracy": round(float(np.mean([t == p for t, p in zip(y_true, y_pred, strict=True)])), 4),
        "macro_f1": round(float(np.mean([v["f1"] for v in pc.values()])), 4),
        "per_class": pc,
        "confusion": {
            "labels": labels,
            "matrix": [
                [sum(t == a and p == b for t, p in zip(y_true, y_pred, strict=True)) for b in labels]
                for a in labels
            ],
        },
    }
    if probs is not None:
        res["ece"] = ece(probs, np.array([labels.index(t) for t in y_true]))
    return res


def _risk(gold: list[str], pred: list[str], order: list[str], probs: np.ndarray) -> dict[str, Any]:
    """`summary` plus recall and precision of "some high-risk category" (any of the three for any)."""
    risk = summary(gold, pred, order, probs)
    true_high = [g in HIGH_RISK for g in gold]
    pred_high = [x in HIGH_RISK for x in pred]
    tp = sum(a and b for a, b in zip(true_high, pred_high, strict=True))
    risk["high_risk_any"] = {
        "recall": round(tp / max(1, sum(true_high)), 4),
        "precision": round(tp / max(1, sum(pred_high)), 4),
    }
    return risk


def _pct(v: list[float], q: float) -> float:
    return round(float(np.percentile(v, q)), 3)


def evaluate_all(clf: TurnClassifiers, recipe: ClassifierRecipe, *, progress: bool = True) -> dict[str, Any]:
    emb = clf.embedder
    report: dict[str, Any] = {"embedding_model": emb.model_name}

    # Risk on each held-out written set, and on both together.
    head = clf.risk_head
    order = list(head.labels)
    gold_all: list[str] = []
    pred_all: list[str] = []
    probs_all = []
    texts: list[str] = []
    for name in data.RISK_EVAL_SETS:
        rev = data.risk_eval(name=name)
        set_texts = [prepare(r.text).text for r in rev]
        e = embed_texts(emb, set_texts, desc=f"Embedding risk {name}", progress=progress)
        p = head.predict_proba(e, set_texts)[:, [head.labels.index(c) for c in order]]
        pred = [order[i] for i in p.argmax(axis=1)]
        gold = [r.label for r in rev]
        report["risk" if name == "eval.jsonl" else f"risk_{name.removesuffix('.jsonl')}"] = _risk(
            gold, pred, order, p
        )
        gold_all += gold
        pred_all += pred
        probs_all.append(p)
        texts += set_texts
    report["risk_all_held_out"] = _risk(gold_all, pred_all, order, np.concatenate(probs_all))

    # Banking77: 77 intents and the risk mapping, on held-out rows of its train file.
    b77 = data.banking77()
    _, test_idx = data.banking77_split(b77, recipe.banking77_test_size, recipe.seed)
    rows = [b77[i] for i in test_idx]
    b77_texts = [r.text for r in rows]
    e77 = embed_texts(emb, b77_texts, desc="Embedding Banking77 held-out", progress=progress)
    if clf.intent_head is not None:
        pi = clf.intent_head.predict_proba(e77, b77_texts)
        pred_i = [clf.intent_head.labels[i] for i in pi.argmax(axis=1)]
        report["banking77_intent"] = {
            "held_out_rows": len(rows),
            "accuracy": round(float(np.mean([a == b.label for a, b in zip(pred_i, rows, strict=True)])), 4),
            "ece": ece(pi, np.array([clf.intent_head.labels.index(r.label) for r in rows])),
        }
    rmap = data.banking77_risk_map()
    pr = head.predict_proba(e77, b77_texts)
    pred_r = [head.labels[i] for i in pr.argmax(axis=1)]
    b77_risk = summary([rmap[r.label] for r in rows], pred_r, order)
    report["risk_on_banking77_held_out"] = {
        "accuracy": b77_risk["accuracy"],
        "macro_f1": b77_risk["macro_f1"],
        "per_class": b77_risk["per_class"],
    }

    # Sentiment: model vs VADER alone, same held-out set.
    sev = data.sentiment("eval")
    stexts = [prepare(r.text).text for r in sev]
    es = embed_texts(emb, stexts, desc="Embedding sentiment eval", progress=progress)
    sh = clf.sentiment_head
    ps = sh.predict_proba(sentiment_features(es, stexts), stexts)
    spred = [sh.labels[i] for i in ps.argmax(axis=1)]
    report["sentiment"] = summary([r.label for r in sev], spred, list(sh.labels), ps)
    vader = []
    for t in stexts:
        c = float(vader_features(t)[3])
        vader.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    report["sentiment_vader_baseline"] = summary([r.label for r in sev], vader, list(sh.labels))

    # Latency: both classifiers for one message, heads only and with the embedding.
    sample = (stexts + texts)[:300]
    heads, full = [], []
    clf.classify(sample[0])
    for t in sample:
        vec = emb.encode([t])[0]
        s0 = time.perf_counter()
        clf.classify(t, embedding=vec)
        heads.append((time.perf_counter() - s0) * 1e3)
        s1 = time.perf_counter()
        clf.classify(t)
        full.append((time.perf_counter() - s1) * 1e3)
    report["latency_ms"] = {
        "messages": len(sample),
        "given_embedding_p50": _pct(heads, 50),
        "given_embedding_p95": _pct(heads, 95),
        "with_embedding_p50": _pct(full, 50),
        "with_embedding_p95": _pct(full, 95),
    }
    return report
