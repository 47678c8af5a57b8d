"""Retrieval evaluation over a labelled question set (`knowledge/eval/questions.jsonl`).

Metrics on answerable questions (recall@1, recall@5, MRR@5) at three granularities:
- `section`: a passage from a relevant H2 section: the author's gold section or one of the `also` sections
  that reviewers judged, by pooling the top results of dense and hybrid retrieval, to answer the question
  fully on their own (the library states many facts twice: the fee schedule repeats product pages);
- `section_strict`: only the author's single gold section;
- `document`: any passage of the gold document.
On the whole set: no-answer precision, recall and F1 (positive class = "the library cannot answer"), as
decided by the retriever (scope model when present), next to the cosine-threshold baseline with its best
threshold and a 2-fold cross-validated F1. Dense-only and hybrid share the same query embeddings.
This module does not build indexes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .retriever import Retriever


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    doc: str | None
    section: str | None
    answerable: bool
    style: str = ""
    answer: str | None = None
    also: tuple[tuple[str, str], ...] = ()  # other (doc, section) pairs judged to answer it fully (pooling)


def load_questions(path: Path) -> list[Question]:
    out: list[Question] = []
    for n, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                Question(
                    id=row["id"],
                    question=row["question"],
                    doc=row.get("doc"),
                    section=row.get("section"),
                    answerable=bool(row.get("answerable", True)),
                    style=row.get("style", ""),
                    answer=row.get("answer"),
                    also=tuple((a["doc"], a["section"]) for a in row.get("also") or ()),
                )
            )
        except (json.JSONDecodeError, KeyError) as exc:
            raise ValueError(f"{path}:{n}: bad question line ({exc})") from exc
    return out


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def _decision_metrics(pred: list[bool], unanswerable: list[bool]) -> dict[str, float]:
    tp = sum(p and u for p, u in zip(pred, unanswerable, strict=True))
    fp = sum(p and not u for p, u in zip(pred, unanswerable, strict=True))
    fn = sum(u and not p for p, u in zip(pred, unanswerable, strict=True))
    return _prf(tp, fp, fn)


def no_answer_metrics(
    top_scores: list[float], unanswerable: list[bool], threshold: float
) -> dict[str, float]:
    return _decision_metrics([s < threshold for s in top_scores], unanswerable)


def best_threshold(top_scores: list[float], unanswerable: list[bool]) -> tuple[float, float]:
    cands = sorted(set(top_scores))
    mids = [(a + b) / 2 for a, b in pairwise(cands)] or cands
    best = max(mids, key=lambda t: (no_answer_metrics(top_scores, unanswerable, t)["f1"], -abs(t - 0.4)))
    return round(float(best), 4), no_answer_metrics(top_scores, unanswerable, best)["f1"]


def evaluate(
    retriever: Retriever,
    questions: list[Question],
    *,
    k: int = 5,
    progress: bool = True,
    modes: tuple[str, ...] = ("dense", "hybrid"),
) -> dict[str, Any]:
    vecs = retriever.embedder.encode([q.question for q in questions], batch_size=64)
    report: dict[str, Any] = {
        "questions": len(questions),
        "answerable": sum(q.answerable for q in questions),
        "unanswerable": sum(not q.answerable for q in questions),
        "k": k,
        "threshold": retriever.cfg.no_answer_threshold,
        "embedding_model": retriever.index.model,
        "modes": {},
    }
    for mode in modes:
        ranks_sec: list[int | None] = []
        ranks_strict: list[int | None] = []
        ranks_doc: list[int | None] = []
        top_scores: list[float] = []
        predicted_no_answer: list[bool] = []
        misses: list[dict[str, Any]] = []
        by_style: dict[str, list[int]] = {}
        for q, v in tqdm(
            list(zip(questions, vecs, strict=True)),
            desc=f"Evaluating ({mode})",
            disable=not progress,
            unit="q",
        ):
            res = retriever.retrieve(q.question, k=k, query_vector=v, hybrid=(mode == "hybrid"))
            top_scores.append(res.top_score)
            predicted_no_answer.append(not res.answerable)
            if not q.answerable:
                continue
            relevant = {(q.doc, q.section), *q.also}
            rs = next((r for r, p in enumerate(res.passages, 1) if (p.doc_id, p.section) in relevant), None)
            strict = next(
                (r for r, p in enumerate(res.passages, 1) if p.doc_id == q.doc and p.section == q.section),
                None,
            )
            rd = next((r for r, p in enumerate(res.passages, 1) if p.doc_id == q.doc), None)
            ranks_sec.append(rs)
            ranks_strict.append(strict)
            ranks_doc.append(rd)
            by_style.setdefault(q.style or "unknown", []).append(1 if rs else 0)
            if rs is None:
                misses.append(
                    {
                        "id": q.id,
                        "question": q.question,
                        "gold": f"{q.doc} / {q.section}",
                        "got": [f"{p.doc_id} / {p.section}" for p in res.passages[:3]],
                    }
                )
        unans = [not q.answerable for q in questions]
        thr, best_f1 = best_threshold(top_scores, unans)
        report["modes"][mode] = {
            "section": _rank_metrics(ranks_sec, k),
            "section_strict": _rank_metrics(ranks_strict, k),
            "document": _rank_metrics(ranks_doc, k),
            "no_answer": _decision_metrics(predicted_no_answer, unans),
            "no_answer_decided_by": "scope model" if retriever.scope else "cosine threshold",
            "threshold_only": {
                "at_configured": no_answer_metrics(top_scores, unans, retriever.cfg.no_answer_threshold),
                "best_threshold": thr,
                "best_f1": best_f1,
                "cv_f1": _cv_f1(top_scores, unans),
            },
            "section_recall_at_k_by_style": {
                s: round(sum(v) / len(v), 4) for s, v in sorted(by_style.items())
            },
            "misses": misses,
        }
    return report


def _rank_metrics(ranks: list[int | None], k: int) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "recall@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        f"recall@{k}": round(sum(1 for r in ranks if r) / n, 4),
        f"mrr@{k}": round(sum(1 / r for r in ranks if r) / n, 4),
    }


def _cv_f1(top_scores: list[float], unans: list[bool], seed: int = 0, repeats: int = 10) -> float:
    """2-fold cross-validation of the threshold choice, repeated over shuffles; mean held-out F1."""
    idx = list(range(len(top_scores)))
    f1s: list[float] = []
    rng = random.Random(seed)
    for _ in range(repeats):
        rng.shuffle(idx)
        half = len(idx) // 2
        for train, test in ((idx[:half], idx[half:]), (idx[half:], idx[:half])):
            t, _ = best_threshold([top_scores[i] for i in train], [unans[i] for i in train])
            f1s.append(no_answer_metrics([top_scores[i] for i in test], [unans[i] for i in test], t)["f1"])
    return round(float(np.mean(f1s)), 4)
