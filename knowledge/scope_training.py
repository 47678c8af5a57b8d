"""Train the scope model: embed the training questions, retrieve for each (the same features the retriever
computes at query time), fit, save, and return the model's metadata with cross-validated figures.
Kept apart from `scope.py` so that serving never imports scikit-learn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .retriever import Retriever
from .scope import train


def features_for(retriever: Retriever, questions: list[str], progress: bool = True) -> np.ndarray:
    vecs = retriever.embedder.encode(questions, batch_size=64)
    rows = []
    for q, v in tqdm(list(zip(questions, vecs, strict=True)), desc="Scope features", disable=not progress):
        res = retriever.retrieve(q, query_vector=v)
        rows.append(np.concatenate([v, np.asarray(res.features, dtype=np.float32)]))
    return np.vstack(rows)


def train_scope(
    retriever: Retriever,
    train_files: list[Path],
    out: Path,
    *,
    answerable_prior: float = 0.85,
    progress: bool = True,
) -> dict[str, Any]:
    rows = [json.loads(x) for f in train_files for x in Path(f).read_text("utf-8").splitlines() if x.strip()]
    x = features_for(retriever, [r["question"] for r in rows], progress)
    y = np.array([1 if r["answerable"] else 0 for r in rows])
    model, _ = train(
        x, y, retriever.index.model, answerable_prior=answerable_prior, sources=[Path(f) for f in train_files]
    )
    model.save(out)
    return model.meta or {}
