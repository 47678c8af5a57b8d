"""Fernhollow Bank's knowledge base: load documents, chunk by section, embed, index with FAISS, retrieve
passages with citations. Imports nothing from `bot`. Heavy modules load on first attribute access."""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "KnowledgeBase": ".api",
    "KnowledgeConfig": ".config",
    "ConfigError": ".config",
    "BuildReport": ".builder",
    "EmptyLibraryError": ".builder",
    "Passage": ".schema",
    "RetrievalResult": ".schema",
    "SkippedFile": ".schema",
    "Chunk": ".schema",
    "Embedder": ".embeddings",
    "TokenEmbedder": ".embeddings",
    "HashingEmbedder": ".embeddings",
    "SentenceTransformerEmbedder": ".embeddings",
    "tokenize": ".retriever",
    "NgramVectorizer": ".ngrams",
    "env_values": ".env",
    "KnowledgeIndexError": ".store",
    "IndexMissingError": ".store",
    "IndexCorruptError": ".store",
    "IndexModelMismatchError": ".store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module 'knowledge' has no attribute {name!r}")
