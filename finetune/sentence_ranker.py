"""`python -m finetune sentence-ranker [--json] [--out PATH]`: fit the learned sentence order that completes
the assistant's replies (bot/sentence_ranker.py) and report it against the hand-weighted order.

Data, two sources:
- knowledge/eval/sentence_train_*.jsonl: customer questions each labelled with the document sentence that
  answers it and the short answer inside it (written for training without reading bot/eval or
  knowledge/eval/questions.jsonl; questions within token Jaccard 0.5 of either were deleted). A candidate is
  positive when it is the labelled sentence and holds the answer, or is another sentence of the same
  document holding that answer.
- knowledge/eval/questions.jsonl (answerable rows): a candidate is positive when it holds the gold `answer`.
  It was the retrieval's held-out set; it is training data here, and reported out of fold.
For each question the real retriever returns the passages the assistant would show (`--passages`, default
the assistant's 3); every sentence of them is a candidate (`bot.extractive.candidates`, features from
`bot.sentence_ranker.candidate_features`, as serving computes them). Questions whose passages hold no
positive teach nothing and are skipped (counted in the report).

Model: a linear score trained as a softmax over each question's candidates (the probability of the
positives), with an L2 penalty chosen from a small grid by 5-fold cross-validation grouped by document (a
document's questions of both sources are never on both sides) on "a positive among the best two"
(completion adds the best two), averaged over the two sources. The report gives the out-of-fold figures per
source for every L2 and for the hand-weighted order. It never reads bot/eval, which `python -m bot.eval` keeps
for the assistant's own figures, and it does not change the prompt's focus order (the LM adapter was trained
on that one) or retrieval.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bot.config import BotConfig
from bot.extractive import CachedEncoder, candidates, rank_sentences
from bot.guards.grounding import contains_fact
from bot.sentence_ranker import DEFAULT_PATH, FEATURES, SentenceRanker, candidate_features

from .labels import is_labelled
from .lm.data import read_jsonl

ROOT = Path(__file__).resolve().parents[1]
EVAL_DIR = ROOT / "knowledge" / "eval"
TRAIN_GLOB = "sentence_train_*.jsonl"
ANSWERS = EVAL_DIR / "questions.jsonl"
SOURCES = ("sentence_train", "questions")
L2_GRID = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)
FOLDS = 5


def answers(row: dict, sentence: str, doc: str) -> bool:
    """A training positive: the labelled sentence, or another sentence of the same document that holds the
    same answer (a fact a table and a paragraph both state answers the question either way; a "$1" in
    another document is a coincidence)."""
    if is_labelled(sentence, row["sentence"], row["answer"]):
        return True
    return doc == row["doc"] and contains_fact(sentence, row["answer"])


def build_groups(
    kb,
    rows: Sequence[dict],
    positive: Callable[[dict, str, str], bool],
    passages: int,
    progress: bool,
    desc: str,
) -> tuple[list[dict], int]:
    """One group per question: candidate features, labels (`positive(row, sentence, its document)`), the
    hand-weighted order's rank of each candidate, and the document (for grouped folds)."""
    encode = CachedEncoder(kb.embedder.encode, encode_with_tokens=kb.embedder.encode_with_tokens)
    groups, skipped = [], 0
    for r in tqdm(rows, desc=desc, unit="question", disable=not progress):
        found = list(kb.retrieve(r["question"], k=passages).passages)
        texts, sections = [p.text for p in found], [p.section for p in found]
        cands = candidates(texts, sections)
        y = np.array([positive(r, c.sentence, found[c.passage - 1].doc_id) for c in cands], dtype=bool)
        if not y.any():
            skipped += 1
            continue
        hand = rank_sentences(r["question"], texts, encode, kb.query_view)
        where = {(e.passage, e.sentence): i for i, e in enumerate(hand)}
        groups.append(
            {
                "x": candidate_features(r["question"], cands, encode, kb.query_view),
                "y": y,
                "hand": np.array([where.get((c.passage, c.sentence), len(cands)) for c in cands]),
                "doc": r.get("doc", ""),
            }
        )
    return groups, skipped


def fit(groups: Sequence[dict], l2: float) -> SentenceRanker:
    """Softmax over each group's candidates, maximising the probability of its positives; L-BFGS."""
    from scipy.optimize import minimize

    x_all = np.concatenate([g["x"] for g in groups])
    mean, scale = x_all.mean(axis=0), x_all.std(axis=0)
    scale[scale < 1e-9] = 1.0
    data = [((g["x"] - mean) / scale, g["y"]) for g in groups]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros_like(w)
        for x, y in data:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            q = p * y / (p * y).sum()  # the positives' share of the probability
            total -= np.log((p * y).sum())
            grad += x.T @ (p - q)
        n = len(data)
        return total / n + l2 * float(w @ w), grad / n + 2 * l2 * w

    w = minimize(loss, np.zeros(x_all.shape[1]), jac=True, method="L-BFGS-B").x
    return SentenceRanker(w, mean, scale, {})


def ranks(groups: Sequence[dict], score: Callable[[dict], np.ndarray]) -> np.ndarray:
    """Best (0-based) rank of a positive in each group under `score` (higher first, stable)."""
    out = []
    for g in groups:
        order = np.argsort(-score(g), kind="stable")
        pos = np.empty(len(order), dtype=int)
        pos[order] = np.arange(len(order))
        out.append(int(pos[g["y"]].min()))
    return np.array(out)


def at(r: np.ndarray, total: int) -> dict[str, float]:
    """Share of `total` questions with a positive at rank 1 / within 2 / within 3 (questions without a
    positive among the candidates count as misses)."""
    return {f"within_{k}": round(float((r < k).sum()) / max(1, total), 4) for k in (1, 2, 3)}


def hand_score(g: dict) -> np.ndarray:
    return -g["hand"].astype(float)


def folds(groups: Sequence[dict]) -> dict[str, int]:
    """Document -> fold: documents in name order, dealt round-robin."""
    return {d: i % FOLDS for i, d in enumerate(sorted({g["doc"] for g in groups}))}


def cross_validate(groups: Sequence[dict], progress: bool) -> dict[float, dict[str, dict[str, float]]]:
    """Out-of-fold ranks for each L2 (folds by document, both sources in every fold), per source."""
    fold_of = folds(groups)
    table = {}
    for l2 in tqdm(L2_GRID, desc="Cross-validating L2", disable=not progress):
        r = np.empty(len(groups), dtype=int)
        for k in range(FOLDS):
            test = [i for i, g in enumerate(groups) if fold_of[g["doc"]] == k]
            model = fit([g for g in groups if fold_of[g["doc"]] != k], l2)
            r[test] = ranks([groups[i] for i in test], lambda g, m=model: m.score(g["x"]))
        table[l2] = per_source(groups, r)
    return table


def per_source(groups: Sequence[dict], r: np.ndarray) -> dict[str, dict[str, float]]:
    return {
        src: at(
            r[[i for i, g in enumerate(groups) if g["source"] == src]],
            sum(g["source"] == src for g in groups),
        )
        for src in SOURCES
    }


def main(
    out: Path = DEFAULT_PATH, passages: int | None = None, progress: bool = True, save: bool = True
) -> dict:
    from knowledge import KnowledgeBase

    t0 = time.perf_counter()
    k = passages or BotConfig().passages
    kb = KnowledgeBase.open(build_if_missing=True, progress=progress)
    sentence_rows = read_jsonl(sorted(EVAL_DIR.glob(TRAIN_GLOB)))
    answer_rows = [r for r in read_jsonl([ANSWERS]) if r.get("answerable") and r.get("answer")]
    if not sentence_rows or not answer_rows:
        raise SystemExit(f"no training questions in {EVAL_DIR / TRAIN_GLOB} or {ANSWERS}")
    groups, counts = [], {}
    for src, rows, positive in (
        ("sentence_train", sentence_rows, answers),
        ("questions", answer_rows, lambda r, s, _doc: contains_fact(s, r["answer"])),
    ):
        built, skipped = build_groups(kb, rows, positive, k, progress, src)
        groups += [dict(g, source=src) for g in built]
        counts[src] = {"questions": len(rows), "used": len(built), "no_positive_in_passages": skipped}
    cv = cross_validate(groups, progress)
    l2 = max(
        L2_GRID,
        key=lambda v: (np.mean([cv[v][s]["within_2"] for s in SOURCES]), cv[v]["questions"]["within_1"], v),
    )
    model = fit(groups, l2)
    report = {
        "features": list(FEATURES),
        "passages": k,
        "training": counts,
        "cv_folds_by_document": FOLDS,
        "cv_by_l2": {str(v): cv[v] for v in L2_GRID},
        "cv_hand_weighted": per_source(groups, ranks(groups, hand_score)),
        "l2": l2,
        "folds": folds(groups),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    model = replace(model, meta={k: v for k, v in report.items() if k != "folds"})
    if save:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_text(model.to_json(), encoding="utf-8")
        tmp.replace(out)
        report["saved"] = str(out)
    return report


def format_report(r: dict) -> str:
    def row(v: dict) -> str:
        return f"{v['within_1']:.3f} / {v['within_2']:.3f} / {v['within_3']:.3f}"

    lines = [
        "sentence ranker: "
        + "; ".join(
            f"{src}: {c['used']} of {c['questions']} questions used ({c['no_positive_in_passages']} without a "
            "positive among the passages)"
            for src, c in r["training"].items()
        ),
        f"  out of fold ({r['cv_folds_by_document']} folds by document), positive at rank 1 / within 2 / within 3:",
        "    " + " " * 14 + "".join(f"{src:<26}" for src in SOURCES),
        f"    {'hand-weighted':<14}" + "".join(f"{row(r['cv_hand_weighted'][s]):<26}" for s in SOURCES),
        *(
            f"    {'L2 ' + k:<14}" + "".join(f"{row(v[s]):<26}" for s in SOURCES)
            for k, v in r["cv_by_l2"].items()
        ),
        f"  chosen L2 {r['l2']} (best mean within 2 over the two sources)",
    ]
    if "saved" in r:
        lines.append(f"  saved {r['saved']} ({r['seconds']} s)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    report = main(args.out or DEFAULT_PATH, args.passages, progress=not args.json, save=not args.dry_run)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0
