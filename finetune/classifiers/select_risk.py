"""Choose the risk head's settings by cross-validation on the TRAINING data only (never `eval.jsonl`):

    python -m finetune.classifiers.select_risk [--json] [--config recipe.yaml]

- Folds: stratified, grouped 5-fold split of the project's written risk rows (`risk/written_train*.jsonl`);
  groups are near-duplicate clusters (token Jaccard >= 0.5, linked transitively), so a message and its
  paraphrases never sit on both sides of a fold. Banking77 (the 80% training split) and NLU++ rows are in
  every fold's training set, as in the final fit; only written rows are scored, because they are the
  assistant's domain (chat messages to a US bank).
- Scores: per-category precision and recall of the out-of-fold predictions, with every category weighted
  equally (each category's rows sum to the same weight, as in a category-balanced test set), so the estimate
  does not depend on how many rows of each category the written files happen to have.
- Grid: inverse regularisation C x written-row weight (class-balanced logistic regression, as in training).
  For each, the out-of-fold logits are kept and a fraud logit offset d >= 0 (step 0.1, at most `MAX_OFFSET`)
  is searched: the smallest d whose out-of-fold fraud recall reaches `TARGET_RECALL` with fraud precision at
  or above `TARGET_PRECISION`; if no d reaches both, the d with the best out-of-fold macro-F1 (the smallest
  on ties), i.e. fraud is favoured only as far as it does not cost overall quality. The offset is added to
  the fraud intercept, so the stored head (`LinearHead`: weights, bias, temperature) applies the decision
  rule with no code change at inference. Only fraud gets an offset: out of fold, lost_stolen and
  account_security offsets take their recall mostly from fraud (their main confusion), which this task is
  meant to raise.
- Pick: the setting with the best out-of-fold macro-F1 among those meeting both fraud targets, else overall.
- Features: the sentence embedding, plus word and character n-grams when the recipe says `risk_ngrams`
  (the n-gram vocabulary and idf fitted on each fold's training texts only, as training fits them on all).

The result goes into `finetune/recipes/classifiers.yaml` by hand (`risk_c`, `risk_written_weight`,
`risk_logit_offsets`), with the report in the data card; this script never reads the held-out sets.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.ngram_fit import fold_features

from . import data
from .embed_cache import embed_texts
from .train import RECIPE, ClassifierRecipe

HIGH_RISK = ("fraud", "lost_stolen", "account_security")
OFFSET_CATEGORY = "fraud"
TARGET_RECALL = 0.95
TARGET_PRECISION = 0.85
MAX_OFFSET = 3.0
C_GRID = (0.5, 1.0, 2.0)
WRITTEN_WEIGHT_GRID = (8.0, 16.0, 32.0, 64.0)
FOLDS = 5
GROUP_JACCARD = 0.5
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def near_duplicate_groups(texts: list[str], limit: float = GROUP_JACCARD) -> np.ndarray:
    """Group ids such that texts with token Jaccard >= limit (transitively) share a group."""
    toks = [frozenset(_TOKEN.findall(t.lower())) for t in texts]
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(texts)), 2):
        a, b = toks[i], toks[j]
        union = len(a | b)
        if union and len(a & b) / union >= limit:
            parent[find(i)] = find(j)
    return np.array([find(i) for i in range(len(texts))])


def balanced_scores(y: np.ndarray, pred: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Per-class precision/recall/F1 with each true class weighted to the same total."""
    counts = np.bincount(y, minlength=len(classes)).astype(float)
    w = 1.0 / counts[y]
    out: dict[str, Any] = {}
    for k, lab in enumerate(classes):
        tp = w[(y == k) & (pred == k)].sum()
        p_den = w[pred == k].sum()
        r_den = w[y == k].sum()
        p = tp / p_den if p_den else 0.0
        r = tp / r_den if r_den else 0.0
        out[lab] = {
            "precision": round(float(p), 4),
            "recall": round(float(r), 4),
            "f1": round(float(2 * p * r / (p + r)) if p + r else 0.0, 4),
        }
    out["macro_f1"] = round(float(np.mean([out[c]["f1"] for c in classes])), 4)
    return out


def choose_offsets(
    logits: np.ndarray, y: np.ndarray, classes: list[str]
) -> tuple[dict[str, float], dict[str, Any], bool]:
    """The fraud offset: smallest reaching both targets out of fold, else the best macro-F1 one."""
    trials = []
    for d in np.round(np.arange(0.0, MAX_OFFSET + 1e-9, 0.1), 1):
        offsets = {OFFSET_CATEGORY: float(d)}
        trials.append((offsets, balanced_scores(y, _apply(logits, offsets, classes).argmax(1), classes)))
    for offsets, s in trials:
        if (
            s[OFFSET_CATEGORY]["recall"] >= TARGET_RECALL
            and s[OFFSET_CATEGORY]["precision"] >= TARGET_PRECISION
        ):
            return offsets, s, True
    best = max(trials, key=lambda t: (t[1]["macro_f1"], -t[0][OFFSET_CATEGORY]))
    return best[0], best[1], False


def _apply(logits: np.ndarray, offsets: dict[str, float], classes: list[str]) -> np.ndarray:
    z = logits.copy()
    for cat, d in offsets.items():
        z[:, classes.index(cat)] += d
    return z


def _meets(scores: dict[str, Any]) -> dict[str, bool]:
    return {
        c: scores[c]["recall"] >= TARGET_RECALL and scores[c]["precision"] >= TARGET_PRECISION
        for c in HIGH_RISK
    }


def select(embedder: Any, recipe: ClassifierRecipe, *, progress: bool = True) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    t0 = time.perf_counter()
    b77 = data.banking77()
    b77_train, _ = data.banking77_split(b77, recipe.banking77_test_size, recipe.seed)
    b77_rows = [b77[i] for i in b77_train]
    risk_map = data.banking77_risk_map()
    extra = data.nlupp() + data.written_risk()
    # Same text lists as train_all, so the embedding cache is shared with `python -m finetune classifiers`.
    e_b77 = embed_texts(embedder, [r.text for r in b77_rows], desc="Embedding Banking77", progress=progress)
    e_extra = embed_texts(
        embedder, [r.text for r in extra], desc="Embedding NLU++ and written risk", progress=progress
    )
    x = np.vstack([e_b77, e_extra])
    texts = [r.text for r in b77_rows] + [r.text for r in extra]
    labels = [risk_map[r.label] for r in b77_rows] + [r.label for r in extra]
    classes = sorted(set(labels))
    y = np.array([classes.index(v) for v in labels])
    written = np.array([False] * len(b77_rows) + [r.source == "written" for r in extra])
    w_idx = np.flatnonzero(written)
    fixed = np.flatnonzero(~written)
    groups = near_duplicate_groups([r.text for r in extra if r.source == "written"])
    folds = list(
        StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=recipe.seed).split(
            w_idx, y[w_idx], groups
        )
    )

    fold_x = [  # per fold: training and scored features (n-grams fitted on the fold's training texts)
        fold_features(x, texts, np.concatenate([fixed, w_idx[tr]]), w_idx[te], recipe.risk_ngrams)
        for tr, te in folds
    ]

    results = []
    for c, ww in itertools.product(C_GRID, WRITTEN_WEIGHT_GRID):
        oof = np.zeros((len(w_idx), len(classes)))
        for (tr, te), (x_train, x_scored) in zip(folds, fold_x, strict=True):
            train_idx = np.concatenate([fixed, w_idx[tr]])
            sw = np.where(written[train_idx], ww, 1.0)
            clf = LogisticRegression(C=c, max_iter=recipe.max_iter, class_weight="balanced")
            clf.fit(x_train, y[train_idx], sample_weight=sw)
            oof[te] = clf.decision_function(x_scored)
        yw = y[w_idx]
        plain = balanced_scores(yw, oof.argmax(1), classes)
        offsets, adjusted, fraud_ok = choose_offsets(oof, yw, classes)
        res = {
            "C": c,
            "written_weight": ww,
            "plain": plain,
            "offsets": offsets,
            "adjusted": adjusted,
            "fraud_meets_targets": fraud_ok,
            "meets_targets": _meets(adjusted),
        }
        results.append(res)
        # One line per setting on stderr (stdout carries the result).
        hr = ", ".join(
            f"{k} R {adjusted[k]['recall']:.3f} P {adjusted[k]['precision']:.3f}" for k in HIGH_RISK
        )
        print(
            f"C={c:<5} ww={ww:<5} plain macro-F1 {plain['macro_f1']:.4f} fraud R {plain['fraud']['recall']:.3f}"
            f" | offsets {offsets} -> macro-F1 {adjusted['macro_f1']:.4f}; {hr}",
            file=sys.stderr,
            flush=True,
        )
    ok = [r for r in results if r["fraud_meets_targets"]]
    best = max(ok or results, key=lambda r: r["adjusted"]["macro_f1"])
    return {
        "folds": FOLDS,
        "written_rows": len(w_idx),
        "groups": len(set(groups.tolist())),
        "targets": {"recall": TARGET_RECALL, "precision": TARGET_PRECISION},
        "grid": results,
        "chosen": {
            "risk_c": best["C"],
            "risk_written_weight": best["written_weight"],
            "risk_logit_offsets": best["offsets"],
            "out_of_fold": best["adjusted"],
            "fraud_meets_targets": best["fraud_meets_targets"],
            "meets_targets": best["meets_targets"],
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m finetune.classifiers.select_risk", description=__doc__)
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    from knowledge import KnowledgeConfig, SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(KnowledgeConfig.from_env().resolved_embedding_model())
    report = select(embedder, ClassifierRecipe.load(args.config or RECIPE), progress=not args.json)
    print(json.dumps(report if args.json else report["chosen"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
