"""The index on disk: atomic versions, validation with a fix command, never a crash deep in FAISS."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge import store
from knowledge.builder import build_index


def test_round_trip(small_cfg, fake_embedder) -> None:
    build_index(small_cfg, fake_embedder, progress=False)
    idx = store.load(small_cfg.index_dir, expected_model="hashing-fake")
    assert idx.model == "hashing-fake" and idx.manifest["dimension"] == 256
    assert len(idx.chunks) == len(idx.vectors) == idx.faiss_index.ntotal > 0
    assert set(idx.documents) == {"debit-cards", "savings"}
    assert all(len(d["sha256"]) == 64 for d in idx.documents.values())


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(store.IndexMissingError, match=r"python -m knowledge build --index"):
        store.load(tmp_path / "nowhere")


def test_other_model_is_refused_with_rebuild_command(small_cfg, fake_embedder) -> None:
    build_index(small_cfg, fake_embedder, progress=False)
    with pytest.raises(store.IndexModelMismatchError) as err:
        store.load(small_cfg.index_dir, expected_model="all-MiniLM-L6-v2", expected_dim=384)
    msg = str(err.value)
    assert "'hashing-fake'" in msg and "'all-MiniLM-L6-v2'" in msg and "--full" in msg


def test_half_written_version_is_reported(small_cfg, fake_embedder) -> None:
    path = Path(build_index(small_cfg, fake_embedder, progress=False).index_path)
    (path / "manifest.json").unlink()
    with pytest.raises(store.IndexCorruptError, match="incomplete"):
        store.load(small_cfg.index_dir)


@pytest.mark.parametrize("victim", ["vectors.npy", "index.faiss", "chunks.jsonl"])
def test_damaged_file_is_reported(small_cfg, fake_embedder, victim: str) -> None:
    path = Path(build_index(small_cfg, fake_embedder, progress=False).index_path)
    with (path / victim).open("r+b") as f:
        f.seek(10)
        f.write(b"garbage!")
    with pytest.raises(store.IndexCorruptError, match="damaged"):
        store.load(small_cfg.index_dir)


def test_garbage_manifest_is_reported(small_cfg, fake_embedder) -> None:
    path = Path(build_index(small_cfg, fake_embedder, progress=False).index_path)
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(store.IndexCorruptError, match="not valid JSON"):
        store.load(small_cfg.index_dir)


def test_interrupted_build_leaves_previous_index_usable(small_cfg, fake_embedder, monkeypatch) -> None:
    first = build_index(small_cfg, fake_embedder, progress=False)
    (small_cfg.docs_dir / "new.md").write_text("# New\n\n## Part\n\nSomething new.\n", encoding="utf-8")

    def crash(*_a, **_k):
        raise KeyboardInterrupt  # the operator pressed Ctrl-C while the index file was being written

    monkeypatch.setattr("knowledge.faiss_index.write", crash)
    with pytest.raises(KeyboardInterrupt):
        build_index(small_cfg, fake_embedder, progress=False)
    monkeypatch.undo()
    idx = store.load(small_cfg.index_dir)
    assert str(idx.path) == first.index_path and set(idx.documents) == {"debit-cards", "savings"}
    assert list(small_cfg.index_dir.glob(".v-*.tmp"))  # the partial folder exists but is never read
    second = build_index(small_cfg, fake_embedder, progress=False)  # next build cleans up after it
    assert not list(small_cfg.index_dir.glob(".v-*.tmp"))
    assert "new" in store.load(small_cfg.index_dir).documents and second.added == ["new"]


def test_only_current_version_is_kept(small_cfg, fake_embedder) -> None:
    build_index(small_cfg, fake_embedder, progress=False)
    build_index(small_cfg, fake_embedder, progress=False, full=True)
    versions = [p for p in small_cfg.index_dir.iterdir() if p.is_dir()]
    assert len(versions) == 1 and (small_cfg.index_dir / "CURRENT").read_text().strip() == versions[0].name


def test_save_rejects_misaligned_vectors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2 chunks but 1 vectors"):
        store.save(tmp_path, {}, [object(), object()], np.zeros((1, 4), dtype=np.float32))  # type: ignore[list-item]


def test_concurrent_builds_are_refused(small_cfg) -> None:
    with (
        store.build_lock(small_cfg.index_dir),
        pytest.raises(store.KnowledgeIndexError, match="another build"),
        store.build_lock(small_cfg.index_dir),
    ):
        pass


def test_manifest_records_model_dimension_and_hashes(small_cfg, fake_embedder) -> None:
    path = Path(build_index(small_cfg, fake_embedder, progress=False).index_path)
    m = json.loads((path / "manifest.json").read_text())
    assert m["embedding_model"] == "hashing-fake" and m["dimension"] == 256
    assert m["chunking"] == {"version": 1, "chunk_size": 900, "chunk_overlap": 120}
    assert set(m["files"]) == {"chunks.jsonl", "vectors.npy", "index.faiss"}
