"""A linear softmax head over a fixed feature vector (the turn's sentence embedding, plus a few extra
features for sentiment), with a calibration temperature. Stored as a small `.npz` file: weights, bias,
labels, temperature and the embedding model it expects.

Training lives in `finetune/`; this module only predicts. NumPy only: a head costs microseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class HeadMismatchError(RuntimeError):
    """The head was trained for another embedding model or feature size; retrain it."""


@dataclass
class LinearHead:
    weights: np.ndarray  # (classes, features)
    bias: np.ndarray  # (classes,)
    labels: list[str]
    temperature: float = 1.0
    embedding_model: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.weights.shape[1])

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.atleast_2d(np.asarray(x, dtype=np.float32)) @ self.weights.T + self.bias

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        z = self.logits(x) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(
            tmp,
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            labels=np.array(self.labels),
            temperature=np.float32(self.temperature),
            embedding_model=np.array(self.embedding_model),
            meta=np.array(json.dumps(self.meta)),
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, embedding_model: str | None = None) -> LinearHead:
        if not Path(path).is_file():
            raise FileNotFoundError(
                f"classifier head {path} not found; train it with `python -m finetune classifiers`"
            )
        with np.load(path, allow_pickle=False) as z:
            head = cls(
                weights=z["weights"],
                bias=z["bias"],
                labels=[str(x) for x in z["labels"]],
                temperature=float(z["temperature"]),
                embedding_model=str(z["embedding_model"]),
                meta=json.loads(str(z["meta"])),
            )
        if embedding_model is not None and head.embedding_model != embedding_model:
            raise HeadMismatchError(
                f"{path} was trained on embeddings of '{head.embedding_model}', not '{embedding_model}'; "
                "retrain with `python -m finetune classifiers`"
            )
        return head
