"""Rank passages for a query: the query embedding moved by the query adapter (when one is loaded), dense
cosine search in FAISS, optionally fused with BM25 by reciprocal rank fusion, near-duplicate removal, and
the "no answer" decision: the scope model when loaded (with a floor on the top cosine beneath it), else a
cosine threshold on the top passage.

`Retriever.retrieve()` accepts a precomputed query vector, so one embedding per turn can serve both
retrieval and the classifiers. This module does not build indexes or format prompts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

import numpy as np
from rank_bm25 import BM25Okapi

from . import faiss_index
from .adapter import QueryAdapter
from .config import KnowledgeConfig
from .embeddings import Embedder
from .schema import Chunk, Passage, RetrievalResult
from .scope import ScopeModel, retrieval_features
from .store import StoredIndex

_WORD = re.compile(r"[a-z0-9]+(?:[.,'][a-z0-9]+)*")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "there",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "yours",
        "i'm",
        "im",
        "get",
        "got",
        "have",
        "has",
        "had",
        "want",
        "need",
        "please",
        "would",
        "could",
        "should",
    ]
)


def tokenize(text: str) -> list[str]:
    return [t for t in _WORD.findall(text.lower()) if t not in STOPWORDS]


class Retriever:
    def __init__(
        self,
        index: StoredIndex,
        embedder: Embedder,
        cfg: KnowledgeConfig,
        scope: ScopeModel | None = None,
        adapter: QueryAdapter | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.cfg = cfg
        self.scope = scope
        self.adapter = adapter
        self.chunks: list[Chunk] = index.chunks
        self._bm25 = BM25Okapi([tokenize(c.embedding_text()) for c in self.chunks]) if self.chunks else None

    def embed(self, query: str) -> np.ndarray:
        return self.embedder.encode([query])[0]

    def dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        scores, ids = faiss_index.search(self.index.faiss_index, qvec, k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def lexical(self, query: str, k: int) -> tuple[list[int], float]:
        """Top-k chunk rows by BM25 and the best BM25 score (0 when no query word is in the library)."""
        tokens = tokenize(query)
        if self._bm25 is None or not tokens:
            return [], 0.0
        scores = self._bm25.get_scores(tokens)
        top = np.argsort(-scores)[:k]
        return [int(i) for i in top if scores[i] > 0], float(scores[top[0]]) if len(top) else 0.0

    def retrieve(
        self,
        query: str,
        *,
        k: int | None = None,
        query_vector: np.ndarray | None = None,
        hybrid: bool | None = None,
    ) -> RetrievalResult:
        cfg = self.cfg
        k = k or cfg.top_k
        hybrid = cfg.hybrid if hybrid is None else hybrid
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        qvec = self.embed(query) if query_vector is None else np.asarray(query_vector, dtype=np.float32)
        t1 = time.perf_counter()
        timings["embed_ms"] = (t1 - t0) * 1e3 if query_vector is None else 0.0
        n_cand = min(cfg.candidates, len(self.chunks))
        rvec = self.adapter(qvec) if self.adapter is not None else qvec  # retrieval view of the query
        dense = self.dense(rvec, n_cand) if self.chunks else []
        dense_score = dict(dense)
        fused: dict[int, float] = {}
        for rank, (i, _) in enumerate(dense):
            fused[i] = 1.0 / (cfg.rrf_k + rank + 1)
        lexical, bm25_top = self.lexical(query, n_cand) if (hybrid or self.scope) else ([], 0.0)
        if hybrid:
            for rank, i in enumerate(lexical):
                fused[i] = fused.get(i, 0.0) + cfg.bm25_weight / (cfg.rrf_k + rank + 1)
        order = sorted(fused, key=lambda i: fused[i], reverse=True)
        timings["search_ms"] = (time.perf_counter() - t1) * 1e3
        missing = [i for i in order if i not in dense_score]
        if missing:  # lexical-only hits still get a true cosine for thresholding and display
            vecs = self.index.vectors[missing]
            for i, s in zip(missing, vecs @ rvec, strict=True):
                dense_score[i] = float(s)
        chosen = self._dedupe(order, k)
        passages = [self.passage(i, dense_score[i], fused[i]) for i in chosen]
        top = round(max((dense_score[i] for i, _ in dense), default=0.0), 4)
        feats = retrieval_features(np.array([s for _, s in dense[:5]]), bm25_top)
        prob = None
        if self.scope is not None:
            prob = round(self.scope.probability(qvec, feats, query), 4)
            answerable = bool(passages) and prob >= self.scope.threshold and top >= cfg.min_top_cosine
        else:
            answerable = bool(passages) and top >= cfg.no_answer_threshold
        timings["total_ms"] = (time.perf_counter() - t0) * 1e3
        return RetrievalResult(
            query=query,
            passages=passages,
            top_score=top,
            answerable=answerable,
            threshold=cfg.no_answer_threshold,
            timings_ms=timings,
            scope_probability=prob,
            features=[round(float(f), 4) for f in feats],
        )

    def _dedupe(self, order: Sequence[int], k: int) -> list[int]:
        chosen: list[int] = []
        seen_text: set[str] = set()
        for i in order:
            key = " ".join(self.chunks[i].text.lower().split())
            if key in seen_text:
                continue
            v = self.index.vectors[i]
            if any(float(v @ self.index.vectors[j]) >= self.cfg.dedup_threshold for j in chosen):
                continue
            seen_text.add(key)
            chosen.append(i)
            if len(chosen) == k:
                break
        return chosen

    def passage(self, i: int, score: float, fused: float) -> Passage:
        c = self.chunks[i]
        return Passage(
            text=c.text,
            doc_id=c.doc_id,
            title=c.title,
            section=c.section,
            heading_path=c.heading_path,
            url=c.url,
            chunk_id=c.chunk_id,
            score=round(score, 4),
            fused_score=round(fused, 6),
        )
