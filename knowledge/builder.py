"""Build or update the index: load the documents folder, chunk, embed only what changed since the last
build (per-document SHA-256 in the manifest), and save atomically. Returns a `BuildReport` that lists
what was added, updated, removed, reused and skipped (with reasons).

A previous index built with another embedding model or other chunking settings is not reused: the build
re-embeds everything and says so. This module does not rank or search.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from . import store
from .chunking import chunk_document
from .config import KnowledgeConfig
from .embeddings import Embedder
from .loaders import load_folder
from .schema import Chunk, SkippedFile


class EmptyLibraryError(RuntimeError):
    """No document could be indexed; the previous index (if any) is left untouched."""


@dataclass
class BuildReport:
    index_path: str = ""
    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    embedded_chunks: int = 0
    reused_chunks: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        return d

    def summary(self) -> str:
        lines = [
            f"Indexed {self.documents} documents into {self.chunks} chunks in {self.seconds:.1f}s "
            f"({self.embedded_chunks} embedded, {self.reused_chunks} reused) -> {self.index_path}",
            f"  added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        if self.skipped:
            lines.append(f"  skipped {len(self.skipped)} file(s):")
            lines += [f"    - {s}" for s in self.skipped]
        else:
            lines.append("  skipped 0 files")
        return "\n".join(lines)


def _chunking_settings(cfg: KnowledgeConfig) -> dict[str, int]:
    return {
        "version": store.CHUNKING_VERSION,
        "chunk_size": cfg.chunk_size,
        "chunk_overlap": cfg.chunk_overlap,
    }


def _previous(cfg: KnowledgeConfig, model: str, report: BuildReport) -> store.StoredIndex | None:
    manifest = store.read_manifest(cfg.index_dir)
    if manifest is None:
        return None
    if manifest.get("embedding_model") != model:
        report.notes.append(
            f"previous index used model '{manifest.get('embedding_model')}': re-embedding all"
        )
        return None
    if manifest.get("chunking") != _chunking_settings(cfg):
        report.notes.append("chunking settings changed: re-embedding all")
        return None
    try:
        return store.load(cfg.index_dir, expected_model=model)
    except store.KnowledgeIndexError as exc:
        report.notes.append(f"previous index unusable ({exc.__class__.__name__}): re-embedding all")
        return None


def build_index(
    cfg: KnowledgeConfig, embedder: Embedder, *, full: bool = False, progress: bool = True
) -> BuildReport:
    started = time.perf_counter()
    report = BuildReport()
    with store.build_lock(cfg.index_dir):
        docs, report.skipped = load_folder(cfg.docs_dir, cfg.max_file_mb)
        if not docs:
            raise EmptyLibraryError(
                f"no document could be indexed from {cfg.docs_dir} "
                f"({len(report.skipped)} file(s) skipped); the existing index, if any, is unchanged"
                + "".join(f"\n  - {s}" for s in report.skipped)
            )
        model = embedder.model_name
        prev = None if full else _previous(cfg, model, report)
        prev_docs = prev.documents if prev else {}
        prev_rows: dict[str, list[int]] = {}
        if prev:
            for i, c in enumerate(prev.chunks):
                prev_rows.setdefault(c.doc_id, []).append(i)

        chunks: list[Chunk] = []
        rows: list[np.ndarray | None] = []
        to_embed: list[int] = []
        documents: dict[str, dict[str, Any]] = {}
        for doc in docs:
            old = prev_docs.get(doc.doc_id)
            if prev and old and old.get("sha256") == doc.sha256 and doc.doc_id in prev_rows:
                report.unchanged.append(doc.doc_id)
                for i in prev_rows[doc.doc_id]:
                    chunks.append(prev.chunks[i])
                    rows.append(prev.vectors[i])
                n = len(prev_rows[doc.doc_id])
                report.reused_chunks += n
            else:
                (report.updated if old else report.added).append(doc.doc_id)
                new = chunk_document(doc, cfg.chunk_size, cfg.chunk_overlap)
                for c in new:
                    to_embed.append(len(chunks))
                    chunks.append(c)
                    rows.append(None)
                n = len(new)
            documents[doc.doc_id] = {
                "path": doc.path,
                "sha256": doc.sha256,
                "title": doc.title,
                "url": doc.url,
                "product": doc.product,
                "last_updated": doc.last_updated,
                "kind": doc.kind,
                "n_chunks": n,
            }
        report.removed = sorted(set(prev_docs) - set(documents))

        dim = embedder.dimension
        if to_embed:
            texts = [chunks[i].embedding_text() for i in to_embed]
            bs = cfg.embedding_batch_size
            bar = tqdm(total=len(texts), desc="Embedding chunks", unit="chunk", disable=not progress)
            for start in range(0, len(texts), bs):
                vecs = embedder.encode(texts[start : start + bs], batch_size=bs)
                for j, v in enumerate(vecs):
                    rows[to_embed[start + j]] = v
                bar.update(len(vecs))
            bar.close()
        vectors = (
            np.vstack([r for r in rows if r is not None]).astype(np.float32) if rows else np.zeros((0, dim))
        )
        report.embedded_chunks = len(to_embed)
        manifest = {
            "embedding_model": model,
            "dimension": dim,
            "chunking": _chunking_settings(cfg),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "docs_dir": str(cfg.docs_dir),
            "documents": documents,
            "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
        }
        path = store.save(cfg.index_dir, manifest, chunks, vectors)
    report.index_path = str(path)
    report.documents = len(documents)
    report.chunks = len(chunks)
    report.seconds = time.perf_counter() - started
    return report
