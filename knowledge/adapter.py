"""A linear query adapter: q' = normalise(q + q A), applied to the query embedding before dense search.
Passages keep their all-MiniLM-L6-v2 vectors, so the index needs no rebuild; the adapter only moves
customers' wording ("can i bring my guide dog in") towards the library's ("Service animals and branch
access"). Trained by `python -m knowledge train-adapter` on `knowledge/eval/retrieval_train*.jsonl`
(questions written for training, never the evaluation set); stored as a small `.npz` tied to its
embedding model. The classifiers keep using the raw embedding. NumPy only at serving time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import PACKAGE_DIR

DEFAULT_ADAPTER = PACKAGE_DIR / "models" / "query_adapter.npz"
ADAPTER_TRAIN_GLOB = "retrieval_train*.jsonl"  # in knowledge/eval/


@dataclass
class QueryAdapter:
    delta: np.ndarray  # (dim, dim): q' = normalise(q + q @ delta)
    embedding_model: str
    meta: dict[str, Any] = field(default_factory=dict)

    def __call__(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=np.float32)
        out = q + q @ self.delta
        norm = np.linalg.norm(out, axis=-1, keepdims=True)
        return (out / np.where(norm == 0, 1.0, norm)).astype(np.float32)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(
            tmp,
            delta=self.delta.astype(np.float32),
            embedding_model=np.array(self.embedding_model),
            meta=np.array(json.dumps(self.meta)),
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, embedding_model: str, dim: int) -> QueryAdapter | None:
        """The adapter at `path` when it exists and matches the embedding model and dimension."""
        if not Path(path).is_file():
            return None
        with np.load(path, allow_pickle=False) as z:
            delta = z["delta"]
            model = str(z["embedding_model"])
            meta = json.loads(str(z["meta"]))
        if model != embedding_model or delta.shape != (dim, dim):
            return None
        return cls(delta=delta, embedding_model=model, meta=meta)
