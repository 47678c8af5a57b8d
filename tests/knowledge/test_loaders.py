"""Loaders: each format yields heading-structured text; every bad file is skipped with a reason that
names it, and the rest is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.loaders import LoadError, load_file, load_folder

from .pdfgen import make_pdf


def test_markdown_front_matter(small_docs: Path) -> None:
    doc = load_file(small_docs / "debit-cards.md", small_docs, 10**7)
    assert doc.doc_id == "debit-cards"
    assert doc.title == "Debit cards"
    assert doc.url == "https://bank.example/help/debit-cards"
    assert doc.last_updated == "2026-10-01"
    assert doc.product == "debit-card"
    assert "## Daily limits" in doc.text and "---" not in doc.text.splitlines()[0]


def test_html_headings_become_sections(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Wires</title><link rel='canonical' href='https://b.example/wires'>"
        "<script>alert(1)</script></head><body><nav>menu</nav><h1>Wires</h1><p>Intro.</p>"
        "<h2>Fees</h2><p>Outgoing wires cost <b>$25</b> online.</p><ul><li>Incoming: $15</li></ul>"
        "<table><tr><th>Kind</th><th>Fee</th></tr><tr><td>Intl</td><td>$45</td></tr></table></body></html>"
    )
    (tmp_path / "wires.html").write_text(html, encoding="utf-8")
    doc = load_file(tmp_path / "wires.html", tmp_path, 10**7)
    assert doc.title == "Wires" and doc.url == "https://b.example/wires"
    assert "## Fees" in doc.text and "$25" in doc.text and "- Incoming: $15" in doc.text
    assert "Intl | $45" in doc.text
    assert "alert" not in doc.text and "menu" not in doc.text


def test_pdf_pages_become_sections(tmp_path: Path) -> None:
    (tmp_path / "rates.pdf").write_bytes(make_pdf(["CD rates", "12 months 4.00% APY"], title="Rate sheet"))
    doc = load_file(tmp_path / "rates.pdf", tmp_path, 10**7)
    assert doc.title == "Rate sheet" and doc.kind == "pdf"
    assert "## Page 1" in doc.text and "4.00% APY" in doc.text


def test_plain_text_gets_a_title(tmp_path: Path) -> None:
    (tmp_path / "branch_hours.txt").write_text("Branches open 9 to 5.", encoding="utf-8")
    doc = load_file(tmp_path / "branch_hours.txt", tmp_path, 10**7)
    assert doc.text.startswith("# Branch hours") and "9 to 5" in doc.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "PDF"),
        ("latin1.md", "Caf\xe9 fees: \xa35".encode("latin-1"), "not valid UTF-8"),
        ("blob.txt", b"\x00\x01\x02binary\x00", "binary content"),
        ("notes.docx", b"PK\x03\x04", "unsupported extension '.docx'"),
        ("empty.md", b"", "empty file"),
        ("bad-front.md", b"---\ntitle: [unclosed\n---\n# X\n", "front matter is not valid YAML"),
    ],
)
def test_bad_files_are_skipped_with_reason(small_docs: Path, name: str, content: bytes, reason: str) -> None:
    (small_docs / name).write_bytes(content)
    docs, skipped = load_folder(small_docs)
    assert {d.doc_id for d in docs} == {"debit-cards", "savings"}
    assert len(skipped) == 1
    assert skipped[0].path.endswith(name) and reason in skipped[0].reason


def test_huge_file_is_skipped_without_reading_it(small_docs: Path) -> None:
    big = small_docs / "huge.txt"
    with big.open("wb") as f:  # sparse 50 MB file: the size check must come before any read
        f.truncate(50 * 1024 * 1024)
    docs, skipped = load_folder(small_docs, max_file_mb=10)
    assert len(docs) == 2
    assert "too large (52.4 MB > limit 10.0 MB" in skipped[0].reason and skipped[0].path.endswith("huge.txt")


def test_duplicate_document_is_skipped(small_docs: Path) -> None:
    (small_docs / "zz-copy-of-cards.md").write_bytes((small_docs / "debit-cards.md").read_bytes())
    docs, skipped = load_folder(small_docs)
    assert len(docs) == 2
    assert skipped[0].path.endswith("zz-copy-of-cards.md")
    assert skipped[0].reason.startswith("duplicate of") and skipped[0].reason.endswith(
        "debit-cards.md (same content)"
    )


def test_hidden_files_and_folders_are_ignored(small_docs: Path) -> None:
    (small_docs / ".DS_Store").write_bytes(b"\x00\x00")
    (small_docs / ".git").mkdir()
    (small_docs / ".git" / "HEAD").write_text("ref", encoding="utf-8")
    docs, skipped = load_folder(small_docs)
    assert len(docs) == 2 and skipped == []


def test_empty_and_missing_folders(tmp_path: Path) -> None:
    assert load_folder(tmp_path) == ([], [])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_folder(tmp_path / "nope")


def test_unreadable_file_is_reported(small_docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (small_docs / "secret.md").write_text("# S\n", encoding="utf-8")
    real = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self.name == "secret.md":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    docs, skipped = load_folder(small_docs)
    assert len(docs) == 2
    assert (
        skipped[0].path.endswith("secret.md") and "cannot read file: Permission denied" in skipped[0].reason
    )


def test_load_error_is_an_exception_with_reason(tmp_path: Path) -> None:
    (tmp_path / "x.xyz").write_text("hi", encoding="utf-8")
    with pytest.raises(LoadError, match="unsupported extension"):
        load_file(tmp_path / "x.xyz", tmp_path, 100)
