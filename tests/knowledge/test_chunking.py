"""Section-aware chunking keeps the heading path and splits long sections with overlap."""

from __future__ import annotations

from knowledge.chunking import chunk_document
from knowledge.schema import SourceDocument


def _doc(text: str) -> SourceDocument:
    return SourceDocument(
        doc_id="d", path="d.md", title="Fees", url="https://b.example/fees", text=text, sha256="x"
    )


def test_sections_carry_heading_path() -> None:
    chunks = chunk_document(
        _doc(
            "# Fees\n\nIntro text.\n\n## Wire fees\n\nOutgoing $25.\n\n### Intl\n\n$45.\n"
            "\n## ATM fees\n\n$3 out of network.\n"
        )
    )
    assert [c.section for c in chunks] == ["Overview", "Wire fees", "ATM fees"]
    assert chunks[1].heading_path == "Fees > Wire fees"
    assert "### Intl" in chunks[1].text and "$45." in chunks[1].text  # H3 stays inside its H2 chunk
    assert chunks[1].embedding_text().startswith("Fees > Wire fees\n")
    assert all(c.url == "https://b.example/fees" and c.doc_id == "d" for c in chunks)
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_long_section_is_split_with_overlap() -> None:
    body = " ".join(f"Sentence number {i} explains a fee of ${i}." for i in range(120))
    chunks = chunk_document(_doc(f"# Fees\n\n## Long\n\n{body}\n"), chunk_size=400, chunk_overlap=80)
    assert len(chunks) > 5
    assert all(len(c.text) <= 400 for c in chunks)
    assert all(c.section == "Long" for c in chunks)
    tail = chunks[0].text[-30:]
    assert tail.split()[-1] in chunks[1].text  # consecutive pieces overlap


def test_empty_sections_produce_no_chunks() -> None:
    chunks = chunk_document(_doc("# Fees\n\n## Empty\n\n## Full\n\nText here.\n"))
    assert [c.section for c in chunks] == ["Full"]
