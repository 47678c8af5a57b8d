"""FAISS index construction and search for L2-normalised vectors (inner product = cosine).

`flat` is exact and right for the sample library (hundreds of chunks); `hnsw` and `ivf` are the
approximate indexes for hundreds of thousands to millions of chunks (see `python -m knowledge bench`).
This is the only module of the package that imports faiss.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

KINDS = ("flat", "hnsw", "ivf")


def build(
    vectors: np.ndarray,
    kind: str = "flat",
    *,
    hnsw_m: int = 32,
    ef_construction: int = 80,
    ef_search: int = 64,
    nlist: int | None = None,
    nprobe: int = 16,
    train_size: int = 50_000,
    seed: int = 0,
) -> faiss.Index:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
    elif kind == "ivf":
        nlist = nlist or max(1, int(4 * math.sqrt(n)))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        sample = vectors if n <= train_size else vectors[rng.choice(n, train_size, replace=False)]
        index.train(sample)
        index.nprobe = nprobe
    else:
        raise ValueError(f"unknown index kind {kind!r}; choose one of {', '.join(KINDS)}")
    if n:
        index.add(vectors)
    return index


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    k = max(1, min(k, index.ntotal)) if index.ntotal else 1
    return index.search(queries, k)


def write(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def read(path: Path) -> faiss.Index:
    return faiss.read_index(str(path))
