"""Section-aware chunking: split a document at its H1/H2 headings (LangChain's
MarkdownHeaderTextSplitter), then split long sections by paragraphs and sentences
(RecursiveCharacterTextSplitter). Every chunk keeps its heading path ("Title > Section"), which is
embedded with the body and returned as the citation's section.

H3 headings stay inside their H2 chunk as text: the sample library's H2 sections are the unit a
customer's question is about. This module does not embed or index.
"""

from __future__ import annotations

import hashlib

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from .schema import Chunk, SourceDocument

_HEADERS = [("#", "h1"), ("##", "h2")]


def chunk_document(doc: SourceDocument, chunk_size: int = 900, chunk_overlap: int = 120) -> list[Chunk]:
    header_splitter = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True)
    body_splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
    )
    chunks: list[Chunk] = []
    for part in header_splitter.split_text(doc.text):
        body = part.page_content.strip()
        if not body:
            continue
        section = part.metadata.get("h2") or "Overview"
        heading_path = " > ".join(x for x in (doc.title, part.metadata.get("h2")) if x)
        for piece in body_splitter.split_text(body):
            piece = piece.strip()
            if len(piece) < 2:
                continue
            digest = hashlib.sha1(f"{doc.doc_id}|{section}|{piece}".encode()).hexdigest()[:12]
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}#{len(chunks)}-{digest}",
                    doc_id=doc.doc_id,
                    title=doc.title,
                    section=section,
                    heading_path=heading_path,
                    url=doc.url,
                    text=piece,
                )
            )
    return chunks
