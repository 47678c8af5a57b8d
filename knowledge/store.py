"""The index on disk: chunks, their vectors, the FAISS index and a manifest (embedding model, dimension,
chunking settings, per-document hashes), written atomically.

Layout: `<index_dir>/CURRENT` names the active version folder `v-<timestamp>-<id>/`. A build writes a new
version folder, fsyncs it, then replaces `CURRENT` with `os.replace` (atomic), so an interrupted build
leaves the previous index usable and a reader never sees half a write. A `.lock` file serialises builders.

Loading validates everything and raises `IndexError`s whose messages carry the command that fixes them,
instead of failing deep inside FAISS. This module does not embed or rank.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .schema import Chunk

FORMAT_VERSION = 1
CHUNKING_VERSION = 1
REBUILD = "python -m knowledge build"
FILES = ("chunks.jsonl", "vectors.npy", "index.faiss")


class KnowledgeIndexError(RuntimeError):
    """The index cannot be used; the message says why and how to fix it."""


class IndexMissingError(KnowledgeIndexError):
    pass


class IndexCorruptError(KnowledgeIndexError):
    pass


class IndexModelMismatchError(KnowledgeIndexError):
    pass


@dataclass
class StoredIndex:
    manifest: dict[str, Any]
    chunks: list[Chunk]
    vectors: np.ndarray
    faiss_index: Any
    path: Path
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return str(self.manifest["embedding_model"])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Exclusive lock so two builds of the same index never interleave."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise KnowledgeIndexError(
                f"another build of {index_dir} is running; wait for it to finish"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def current_version(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text().strip()
    return index_dir / name if name else None


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The active manifest, or None when there is no usable index (used for incremental builds)."""
    version = current_version(Path(index_dir))
    if version is None or not (version / "manifest.json").is_file():
        return None
    try:
        return json.loads((version / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def save(index_dir: Path, manifest: dict[str, Any], chunks: list[Chunk], vectors: np.ndarray) -> Path:
    """Write a new version atomically and make it current. Returns the version folder."""
    from . import faiss_index

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    if len(chunks) != len(vectors):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
    name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = index_dir / f".{name}.tmp"
    tmp.mkdir()
    with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as f:
        for c in chunks:
            f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
    np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
    faiss_index.write(faiss_index.build(vectors, "flat"), tmp / "index.faiss")
    manifest = {
        **manifest,
        "format": FORMAT_VERSION,
        "n_chunks": len(chunks),
        "version": name,
        "files": {fn: _sha256(tmp / fn) for fn in FILES},
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    for fn in (*FILES, "manifest.json"):
        with (tmp / fn).open("rb") as f:
            os.fsync(f.fileno())
    final = index_dir / name
    tmp.rename(final)
    pointer_tmp = index_dir / "CURRENT.tmp"
    pointer_tmp.write_text(name + "\n")
    with pointer_tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    for old in index_dir.iterdir():
        if old.is_dir() and old.name != name and (old.name.startswith("v-") or old.name.endswith(".tmp")):
            shutil.rmtree(old, ignore_errors=True)
    return final


def load(index_dir: Path, expected_model: str | None = None, expected_dim: int | None = None) -> StoredIndex:
    """Load and validate the current index. Raises `KnowledgeIndexError` subclasses with a fix."""
    from . import faiss_index

    index_dir = Path(index_dir)
    version = current_version(index_dir)
    if version is None:
        leftovers = list(index_dir.glob(".v-*.tmp")) if index_dir.is_dir() else []
        hint = " (an interrupted build left a partial folder, which is ignored)" if leftovers else ""
        raise IndexMissingError(
            f"no index at {index_dir}{hint}; build it with: {REBUILD} --index {index_dir}"
        )
    manifest_path = version / "manifest.json"
    if not manifest_path.is_file():
        raise IndexCorruptError(
            f"index at {index_dir} is incomplete (missing {manifest_path.name}); rebuild with: "
            f"{REBUILD} --index {index_dir} --full"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise IndexCorruptError(
            f"manifest {manifest_path} is not valid JSON ({exc}); rebuild with: "
            f"{REBUILD} --index {index_dir} --full"
        ) from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexCorruptError(
            f"index format {manifest.get('format')} is not {FORMAT_VERSION}; rebuild with: "
            f"{REBUILD} --index {index_dir} --full"
        )
    if expected_model is not None and manifest.get("embedding_model") != expected_model:
        raise IndexModelMismatchError(
            f"index at {index_dir} was built with embedding model '{manifest.get('embedding_model')}' "
            f"(dimension {manifest.get('dimension')}), but the configured model is '{expected_model}'"
            f"{f' (dimension {expected_dim})' if expected_dim else ''}; rebuild it with: "
            f"{REBUILD} --index {index_dir} --full"
        )
    if expected_dim is not None and manifest.get("dimension") != expected_dim:
        raise IndexModelMismatchError(
            f"index dimension {manifest.get('dimension')} differs from the model's {expected_dim}; rebuild with: "
            f"{REBUILD} --index {index_dir} --full"
        )
    for fn, digest in manifest.get("files", {}).items():
        path = version / fn
        if not path.is_file():
            raise IndexCorruptError(
                f"index file {path} is missing; rebuild with: {REBUILD} --index {index_dir} --full"
            )
        if _sha256(path) != digest:
            raise IndexCorruptError(
                f"index file {path} is damaged (checksum mismatch); rebuild with: "
                f"{REBUILD} --index {index_dir} --full"
            )
    try:
        chunks = [
            Chunk(**json.loads(line))
            for line in (version / "chunks.jsonl").read_text("utf-8").splitlines()
            if line.strip()
        ]
        vectors = np.load(version / "vectors.npy")
        index = faiss_index.read(version / "index.faiss")
    except Exception as exc:  # any parse failure means the same thing to the operator
        raise IndexCorruptError(
            f"cannot read index at {version} ({type(exc).__name__}: {exc}); rebuild with: "
            f"{REBUILD} --index {index_dir} --full"
        ) from exc
    if not (len(chunks) == len(vectors) == index.ntotal == manifest.get("n_chunks")):
        raise IndexCorruptError(
            f"index at {version} is inconsistent ({len(chunks)} chunks, {len(vectors)} vectors, "
            f"{index.ntotal} in FAISS); rebuild with: {REBUILD} --index {index_dir} --full"
        )
    return StoredIndex(
        manifest=manifest,
        chunks=chunks,
        vectors=vectors,
        faiss_index=index,
        path=version,
        documents=manifest.get("documents", {}),
    )
