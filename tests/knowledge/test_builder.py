"""Incremental builds re-embed only what changed; skipped files are reported; an empty library never
replaces a good index."""

from __future__ import annotations

import pytest

from knowledge import HashingEmbedder, store
from knowledge.builder import EmptyLibraryError, build_index


class CountingEmbedder(HashingEmbedder):
    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.encoded = 0

    def encode(self, texts, **kw):
        self.encoded += len(texts)
        return super().encode(texts, **kw)


def test_rebuild_embeds_only_the_changed_document(small_cfg) -> None:
    emb = CountingEmbedder()
    first = build_index(small_cfg, emb, progress=False)
    assert first.added == ["debit-cards", "savings"] and emb.encoded == first.chunks
    emb.encoded = 0
    again = build_index(small_cfg, emb, progress=False)
    assert emb.encoded == 0 and again.unchanged == ["debit-cards", "savings"]
    with (small_cfg.docs_dir / "savings.md").open("a", encoding="utf-8") as f:
        f.write("\n## Closing\n\nClose it in the app.\n")
    third = build_index(small_cfg, emb, progress=False)
    savings_chunks = store.load(small_cfg.index_dir).documents["savings"]["n_chunks"]
    assert third.updated == ["savings"] and third.unchanged == ["debit-cards"]
    assert emb.encoded == third.embedded_chunks == savings_chunks
    assert third.reused_chunks == third.chunks - savings_chunks


def test_removed_document_leaves_the_index(small_cfg, fake_embedder) -> None:
    build_index(small_cfg, fake_embedder, progress=False)
    (small_cfg.docs_dir / "savings.md").unlink()
    report = build_index(small_cfg, fake_embedder, progress=False)
    assert report.removed == ["savings"]
    assert {c.doc_id for c in store.load(small_cfg.index_dir).chunks} == {"debit-cards"}


def test_other_model_triggers_full_reembedding(small_cfg, fake_embedder) -> None:
    build_index(small_cfg, fake_embedder, progress=False)
    other = CountingEmbedder(model_name="another-model")
    report = build_index(small_cfg, other, progress=False)
    assert other.encoded == report.chunks and any(
        "another" not in n and "re-embedding" in n for n in report.notes
    )


def test_skipped_files_are_summarised(small_cfg, fake_embedder) -> None:
    (small_cfg.docs_dir / "scan.pdf").write_bytes(b"%PDF-1.4 garbage")
    (small_cfg.docs_dir / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    report = build_index(small_cfg, fake_embedder, progress=False)
    assert report.documents == 2 and len(report.skipped) == 2
    summary = report.summary()
    assert (
        "skipped 2 file(s)" in summary
        and "scan.pdf" in summary
        and "old.doc: unsupported extension" in summary
    )
    assert store.load(small_cfg.index_dir).manifest["skipped"][0]["path"].endswith("old.doc")


def test_empty_library_keeps_previous_index(small_cfg, fake_embedder) -> None:
    first = build_index(small_cfg, fake_embedder, progress=False)
    for p in small_cfg.docs_dir.iterdir():
        p.unlink()
    (small_cfg.docs_dir / "junk.bin").write_bytes(b"\x00")
    with pytest.raises(EmptyLibraryError, match=r"no document could be indexed[\s\S]*junk.bin"):
        build_index(small_cfg, fake_embedder, progress=False)
    assert str(store.load(small_cfg.index_dir).path) == first.index_path
