"""Choose the risk head's settings by cross-validation on the TRAINING data only (never `eval.jsonl`):

    python -m finetune.classifiers.select_risk [--json] [--config recipe.yaml]

- Folds: stratified, grouped 5-fold split of the project's written risk rows (`risk/written_train*.jsonl`);
  groups are near-duplicate clusters (token Jaccard >= 0.5, linked transitively), so a message and its
  paraphrases never sit on both sides of a fold. Banking77 (the 80% training split) and NLU++ rows are in
  every fold's training set, as in the final fit; only written rows are scored, because they are the
  assistant's domain (chat messages to a US bank).
- Scores: per-category precision and recall of the out-of-fold predictions, with every category weighted
  equally (each category's rows sum to the same weight), so the estimate does not depend on how many rows
  of each category happen to be in the written files.
- Grid: inverse regularisation C x written-row weight; for each, the out-of-fold logits are kept and a
  logit offset for each high-risk category (fraud, lost_stolen, account_security) is searched: the smallest
  offset (step 0.1, at most `MAX_OFFSET`) whose out-of-fold recall reaches `TARGET_RECALL` while its
  precision stays at or above `TARGET_PRECISION`, one category at a time in that order. An offset is added
  to the category's intercept, so the stored head (`LinearHead`: weights, bias, temperature) applies the
  decision rule with no code change at inference.
- Pick: among settings whose three high-risk categories meet both targets out of fold, the one with the
  best out-of-fold macro-F1; if none does, the one with the best macro-F1 overall (reported as such).

The result goes into `finetune/recipes/classifiers.yaml` by hand (`risk_c`, `risk_written_weight`,
`risk_logit_offsets`), with the report in the data card; this script never reads the held-out sets.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import data
from .embed_cache import embed_texts
from .train import RECIPE, ClassifierRecipe

HIGH_RISK = ("fraud", "lost_stolen", "account_security")
TARGET_RECALL = 0.95
TARGET_PRECISION = 0.85
MAX_OFFSET = 3.0
C_GRID = (1.0, 3.0, 10.0)
WRITTEN_WEIGHT_GRID = (4.0, 8.0, 16.0)
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
) -> tuple[dict[str, float], dict[str, Any]]:
    """Smallest per-category logit offsets reaching the recall target with precision kept, in turn."""
    offsets = dict.fromkeys(HIGH_RISK, 0.0)
    for cat in HIGH_RISK:
        for d in np.round(np.arange(0.0, MAX_OFFSET + 1e-9, 0.1), 1):
            trial = {**offsets, cat: float(d)}
            s = balanced_scores(y, _apply(logits, trial, classes).argmax(1), classes)[cat]
            if s["precision"] < TARGET_PRECISION:
                break  # more offset only lowers precision further
            offsets[cat] = float(d)
            if s["recall"] >= TARGET_RECALL:
                break
    return offsets, balanced_scores(y, _apply(logits, offsets, classes).argmax(1), classes)


def _apply(logits: np.ndarray, offsets: dict[str, float], classes: list[str]) -> np.ndarray:
    z = logits.copy()
    for cat, d in offsets.items():
        z[:, classes.index(cat)] += d
    return z


def _meets(scores: dict[str, Any]) -> bool:
    return all(
        scores[c]["recall"] >= TARGET_RECALL and scores[c]["precision"] >= TARGET_PRECISION for c in HIGH_RISK
    )


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

    results = []
    for c, ww in itertools.product(C_GRID, WRITTEN_WEIGHT_GRID):
        oof = np.zeros((len(w_idx), len(classes)))
        for tr, te in folds:
            train_idx = np.concatenate([fixed, w_idx[tr]])
            sw = np.where(written[train_idx], ww, 1.0)
            clf = LogisticRegression(C=c, max_iter=recipe.max_iter, class_weight="balanced")
            clf.fit(x[train_idx], y[train_idx], sample_weight=sw)
            oof[te] = clf.decision_function(x[w_idx[te]])
        yw = y[w_idx]
        plain = balanced_scores(yw, oof.argmax(1), classes)
        offsets, adjusted = choose_offsets(oof, yw, classes)
        res = {
            "C": c,
            "written_weight": ww,
            "plain": plain,
            "offsets": offsets,
            "adjusted": adjusted,
            "meets_targets": _meets(adjusted),
        }
        results.append(res)
        if progress:
            hr = ", ".join(
                f"{k} R {adjusted[k]['recall']:.3f} P {adjusted[k]['precision']:.3f}" for k in HIGH_RISK
            )
            print(
                f"C={c:<5} ww={ww:<5} plain macro-F1 {plain['macro_f1']:.4f} fraud R {plain['fraud']['recall']:.3f}"
                f" | offsets {offsets} -> macro-F1 {adjusted['macro_f1']:.4f}; {hr}",
                flush=True,
            )
    ok = [r for r in results if r["meets_targets"]]
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
