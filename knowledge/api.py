"""The knowledge base's public face: open an index (building it on request), retrieve passages, and hand
out a LangChain retriever. `bot` and the CLI use only this and the data types in `schema`."""

from __future__ import annotations

from pathlib import Path

from .adapter import DEFAULT_ADAPTER, QueryAdapter
from .builder import BuildReport, build_index
from .config import ConfigError, KnowledgeConfig
from .embeddings import Embedder, SentenceTransformerEmbedder
from .retriever import Retriever
from .schema import RetrievalResult
from .scope import DEFAULT_SCOPE_MODEL, ScopeModel
from .store import IndexMissingError, StoredIndex, load


def default_embedder(cfg: KnowledgeConfig) -> Embedder:
    return SentenceTransformerEmbedder(cfg.resolved_embedding_model())


def load_scope(cfg: KnowledgeConfig, index: StoredIndex) -> ScopeModel | None:
    """The scope model for this index's embedding model, or None (cosine threshold decides)."""
    if cfg.scope_model.lower() == "none":
        return None
    path = Path(cfg.scope_model) if cfg.scope_model else DEFAULT_SCOPE_MODEL
    model = ScopeModel.load(path, index.model, int(index.manifest["dimension"]))
    if model is None and cfg.scope_model:
        raise ConfigError(
            f"scope model {path} is missing or was trained for another embedding model than '{index.model}'; "
            "train one with `python -m knowledge train-scope` or set KNOWLEDGE_SCOPE_MODEL=none"
        )
    return model


def load_adapter(cfg: KnowledgeConfig, index: StoredIndex) -> QueryAdapter | None:
    """The query adapter for this index's embedding model, or None (raw query embeddings)."""
    if cfg.query_adapter.lower() == "none":
        return None
    path = Path(cfg.query_adapter) if cfg.query_adapter else DEFAULT_ADAPTER
    adapter = QueryAdapter.load(path, index.model, int(index.manifest["dimension"]))
    if adapter is None and cfg.query_adapter:
        raise ConfigError(
            f"query adapter {path} is missing or was trained for another embedding model than '{index.model}'; "
            "train one with `python -m knowledge train-adapter` or set KNOWLEDGE_QUERY_ADAPTER=none"
        )
    return adapter


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
