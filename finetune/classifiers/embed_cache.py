"""Embed training texts once: vectors are cached on disk under a key made of the embedding model and the
texts' hash, so retraining or re-evaluating does not re-embed ~14,000 sentences (about a minute here)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fernhollow" / "embeddings"


def embed_texts(
    embedder: Any,
    texts: list[str],
    *,
    desc: str = "Embedding",
    batch_size: int = 128,
    progress: bool = True,
    use_cache: bool = True,
) -> np.ndarray:
    key = hashlib.sha256(("\x1f".join([embedder.model_name, *texts])).encode()).hexdigest()[:24]
    path = cache_dir() / f"{key}.npy"
    if use_cache and path.is_file():
        return np.load(path)
    out = []
    for s in tqdm(range(0, len(texts), batch_size), desc=desc, unit="batch", disable=not progress):
        out.append(embedder.encode(texts[s : s + batch_size], batch_size=batch_size))
    vecs = np.vstack(out) if out else np.zeros((0, embedder.dimension), dtype=np.float32)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npy")
        np.save(tmp, vecs)
        tmp.replace(path)
    return vecs
