"""Check by cross-validation on the sentiment TRAINING rows only (never the held-out set) whether the
sentiment head gains from word and character n-grams next to the embedding and VADER's scores:

    python -m finetune.classifiers.select_sentiment [--json]

Stratified, grouped 5-fold (seeded; groups are near-duplicate clusters as in `select_risk`, so a message
and its paraphrase never sit on both sides of a fold); per fold the n-gram vocabulary and idf are fitted on the fold's training texts,
as training fits them on all rows; class-balanced logistic regression at each C of the grid; prints the
out-of-fold macro-F1 of each setting. The choice goes into `finetune/recipes/classifiers.yaml` by hand.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from knowledge.ngram_fit import fold_features

from . import data
from .embed_cache import embed_texts
from .select_risk import near_duplicate_groups
from .train import sentiment_features

C_GRID = (1.0, 2.0, 4.0)
FOLDS = 5


def select(embedder, *, seed: int = 0, progress: bool = True) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedGroupKFold

    rows = data.sentiment("train")
    texts = [r.text for r in rows]
    x = sentiment_features(embed_texts(embedder, texts, desc="Embedding sentiment", progress=progress), texts)
    labels = sorted({r.label for r in rows})
    y = np.array([labels.index(r.label) for r in rows])
    groups = near_duplicate_groups(texts)
    folds = list(StratifiedGroupKFold(FOLDS, shuffle=True, random_state=seed).split(x, y, groups))
    out: dict[str, float] = {}
    for ngrams in (False, True):
        per_fold = [fold_features(x, texts, tr, te, ngrams) for tr, te in folds]
        for c in C_GRID:
            pred = np.zeros(len(y), dtype=int)
            for (tr, te), (a, b) in zip(folds, per_fold, strict=True):
                clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(a, y[tr])
                pred[te] = clf.predict(b)
            key = f"{'embedding+vader+ngrams' if ngrams else 'embedding+vader'} C={c}"
            out[key] = round(float(f1_score(y, pred, average="macro")), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m finetune.classifiers.select_sentiment", description=__doc__)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    from knowledge import KnowledgeConfig, SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(KnowledgeConfig.from_env().resolved_embedding_model())
    report = select(embedder, progress=not args.json)
    print(
        json.dumps(report, indent=2)
        if args.json
        else "\n".join(f"{k}: out-of-fold macro-F1 {v}" for k, v in report.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
