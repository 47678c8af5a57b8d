"""The knowledge base's public face: open an index (building it on request), retrieve passages, and hand
out a LangChain retriever. `bot` and the CLI use only this and the data types in `schema`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from .adapter import DEFAULT_ADAPTER, QueryAdapter
from .builder import BuildReport, build_index
from .config import ConfigError, KnowledgeConfig
from .embeddings import Embedder, SentenceTransformerEmbedder
from .retriever import Retriever
from .schema import Passage, RetrievalResult
from .scope import DEFAULT_SCOPE_MODEL, ScopeModel
from .store import IndexMissingError, StoredIndex, load

T = TypeVar("T")


def default_embedder(cfg: KnowledgeConfig) -> Embedder:
    return SentenceTransformerEmbedder(cfg.resolved_embedding_model())


def _load_trained(
    setting: str,
    default: Path,
    loader: Callable[[Path, str, int], T | None],
    index: StoredIndex,
    what: str,
    field_name: str,
    command: str,
) -> T | None:
    """A trained model file for this index's embedding model. Setting "none" disables it; an empty setting
    takes the packaged file when it matches (None otherwise); an explicit path must match or is an error."""
    if setting.lower() == "none":
        return None
    path = Path(setting) if setting else default
    model = loader(path, index.model, int(index.manifest["dimension"]))
    if model is None and setting:
        raise ConfigError(
            f"{what} {path} is missing or was trained for another embedding model than '{index.model}'; "
            f"train one with `python -m knowledge {command}` or set KNOWLEDGE_{field_name.upper()}=none"
        )
    return model


def load_scope(cfg: KnowledgeConfig, index: StoredIndex) -> ScopeModel | None:
    """The scope model, or None (the cosine threshold decides "no answer")."""
    return _load_trained(
        cfg.scope_model,
        DEFAULT_SCOPE_MODEL,
        ScopeModel.load,
        index,
        "scope model",
        "scope_model",
        "train-scope",
    )


def load_adapter(cfg: KnowledgeConfig, index: StoredIndex) -> QueryAdapter | None:
    """The query adapter, or None (raw query embeddings)."""
    return _load_trained(
        cfg.query_adapter,
        DEFAULT_ADAPTER,
        QueryAdapter.load,
        index,
        "query adapter",
        "query_adapter",
        "train-adapter",
    )


class KnowledgeBase:
    """A loaded index plus its embedder and retriever."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        self.cfg = retriever.cfg
        self.embedder = retriever.embedder

    @classmethod
    def open(
        cls,
        cfg: KnowledgeConfig | None = None,
        embedder: Embedder | None = None,
        *,
        build_if_missing: bool = False,
        progress: bool = False,
    ) -> KnowledgeBase:
        cfg = cfg or KnowledgeConfig.from_env()
        embedder = embedder or default_embedder(cfg)
        try:
            index = load(cfg.index_dir, expected_model=embedder.model_name)
        except IndexMissingError:
            if not build_if_missing:
                raise
            build_index(cfg, embedder, progress=progress)
            index = load(cfg.index_dir, expected_model=embedder.model_name)
        return cls(
            Retriever(index, embedder, cfg, scope=load_scope(cfg, index), adapter=load_adapter(cfg, index))
        )

    @staticmethod
    def build(
        cfg: KnowledgeConfig, embedder: Embedder | None = None, *, full: bool = False, progress: bool = True
    ) -> BuildReport:
        return build_index(cfg, embedder or default_embedder(cfg), full=full, progress=progress)

    def retrieve(self, query: str, **kw) -> RetrievalResult:
        return self.retriever.retrieve(query, **kw)

    def query_view(self, vectors: np.ndarray) -> np.ndarray:
        """Query embeddings (one per row) as dense search compares them with the library: moved by the query
        adapter when one is loaded, unchanged otherwise. For ranking passage sentences the same way."""
        r = self.retriever
        return r.adapter(vectors) if r.adapter is not None else np.asarray(vectors, dtype=np.float32)

    def search_document(self, doc_id: str, query: str, k: int = 2) -> list[Passage]:
        """The `k` chunks of one document closest to `query` (for quoting a known page, e.g. a safety
        script). Empty when the document is not in the index."""
        r = self.retriever
        ids = [i for i, c in enumerate(r.index.chunks) if c.doc_id == doc_id]
        if not ids:
            return []
        q = self.query_view(r.embed(query))
        scores = r.index.vectors[ids] @ q
        order = sorted(range(len(ids)), key=lambda j: -float(scores[j]))[:k]
        return [r.passage(ids[j], float(scores[j]), 0.0) for j in order]

    def as_langchain_retriever(self, k: int | None = None, drop_unanswerable: bool = False):
        from .lc_retriever import KnowledgeRetriever

        return KnowledgeRetriever(
            retriever=self.retriever, k=k or self.cfg.top_k, drop_unanswerable=drop_unanswerable
        )

    def stats(self) -> dict:
        idx = self.retriever.index
        return {
            "index_path": str(idx.path),
            "embedding_model": idx.model,
            "dimension": idx.manifest["dimension"],
            "documents": len(idx.documents),
            "chunks": len(idx.chunks),
            "built_at": idx.manifest.get("built_at"),
            "skipped_at_build": idx.manifest.get("skipped", []),
        }
