"""Load source files into `SourceDocument`s: Markdown with YAML front matter, HTML (BeautifulSoup),
PDF (pypdf) and plain text. Each loader returns heading-structured text so that chunking can keep the
section path.

A file that cannot be loaded raises `LoadError` with a reason a person can act on; `load_folder`
collects those as `SkippedFile`s and carries on with the rest. This module does not chunk or embed.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

from .schema import SkippedFile, SourceDocument

SUPPORTED = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".txt": "text",
}


class LoadError(Exception):
    """A file was not loaded; the message is the reason."""


def _decode(raw: bytes, path: Path) -> str:
    if b"\x00" in raw[:8192]:
        raise LoadError("binary content (NUL bytes), not a text document")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); re-save the file as UTF-8"
        ) from exc
    return unicodedata.normalize("NFC", text)


def _split_front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    end = text.find("\n---", 3)
    if end < 0:
        raise LoadError("front matter opened with '---' but never closed")
    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise LoadError("front matter must be a YAML mapping (key: value lines)")
    body = text[end + 4 :]
    return meta, body.lstrip("\n")


def _first_heading(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def load_markdown(path: Path, raw: bytes) -> dict:
    meta, body = _split_front_matter(_decode(raw, path))
    return {
        "title": str(meta.get("title") or _first_heading(body) or path.stem.replace("-", " ").capitalize()),
        "url": str(meta.get("url") or ""),
        "product": str(meta.get("product") or ""),
        "last_updated": str(meta.get("last_updated") or ""),
        "text": body,
    }


def load_text(path: Path, raw: bytes) -> dict:
    text = _decode(raw, path)
    title = path.stem.replace("-", " ").replace("_", " ").capitalize()
    return {"title": title, "url": "", "text": f"# {title}\n\n{text}"}


_BLOCKS = ["p", "li", "pre", "tr", "dd", "dt", "blockquote"]
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 4, "h6": 4}


def load_html(path: Path, raw: bytes) -> dict:
    from bs4 import BeautifulSoup

    if b"\x00" in raw[:8192]:
        raise LoadError("binary content (NUL bytes), not an HTML document")
    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer"]):
        tag.decompose()
    root = soup.body or soup
    lines: list[str] = []
    for tag in root.find_all([*_HEADINGS, *_BLOCKS]):
        if tag.name in _HEADINGS:
            text = tag.get_text(" ", strip=True)
            if text:
                lines.append(f"\n{'#' * _HEADINGS[tag.name]} {text}\n")
        elif not tag.find_parent(_BLOCKS):
            sep = " | " if tag.name == "tr" else " "
            text = tag.get_text(sep, strip=True)
            if text:
                lines.append(("- " if tag.name == "li" else "") + text)
    text = unicodedata.normalize("NFC", "\n".join(lines).strip())
    if not text:
        raise LoadError("HTML has no readable text")
    title_tag = soup.find("title")
    title = (title_tag.get_text(strip=True) if title_tag else "") or _first_heading(text) or path.stem
    canonical = soup.find("link", rel="canonical")
    url = canonical.get("href", "") if canonical else ""
    if not text.lstrip().startswith("# "):
        text = f"# {title}\n\n{text}"
    return {"title": title, "url": str(url), "text": text}


def load_pdf(path: Path, raw: bytes) -> dict:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        info_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoadError(f"cannot read PDF ({type(exc).__name__}: {exc}); is the file complete?") from exc
    if not any(pages):
        raise LoadError("PDF has no extractable text (scanned image or empty); run OCR or export it as text")
    title = str(info_title).strip() or path.stem.replace("-", " ").capitalize()
    body = "\n\n".join(
        f"## Page {i}\n\n{unicodedata.normalize('NFC', t)}" for i, t in enumerate(pages, 1) if t
    )
    return {"title": title, "url": "", "text": f"# {title}\n\n{body}"}


LOADERS: dict[str, Callable[[Path, bytes], dict]] = {
    "markdown": load_markdown,
    "html": load_html,
    "pdf": load_pdf,
    "text": load_text,
}


def load_file(path: Path, root: Path, max_bytes: int) -> SourceDocument:
    """Load one file or raise `LoadError`."""
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        raise LoadError(
            f"unsupported extension '{path.suffix or '(none)'}' (supported: {', '.join(SUPPORTED)})"
        )
    size = path.stat().st_size
    if size == 0:
        raise LoadError("empty file")
    if size > max_bytes:
        raise LoadError(
            f"too large ({size / 1e6:.1f} MB > limit {max_bytes / 1e6:.1f} MB; raise max_file_mb)"
        )
    raw = path.read_bytes()
    fields = LOADERS[kind](path, raw)
    if not fields["text"].strip():
        raise LoadError("no text after loading")
    rel = path.relative_to(root).with_suffix("").as_posix()
    return SourceDocument(
        doc_id=rel,
        path=str(path),
        title=fields["title"],
        url=fields["url"] or f"file://{path.resolve()}",
        text=fields["text"],
        sha256=hashlib.sha256(raw).hexdigest(),
        product=fields.get("product", ""),
        last_updated=fields.get("last_updated", ""),
        kind=kind,
    )


def iter_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts):
            yield path


def load_folder(root: Path, max_file_mb: float = 10.0) -> tuple[list[SourceDocument], list[SkippedFile]]:
    """Load every file under `root`. Bad files become `SkippedFile`s with reasons; nothing raises
    except a missing folder."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"documents folder {root} does not exist")
    docs: list[SourceDocument] = []
    skipped: list[SkippedFile] = []
    by_hash: dict[str, str] = {}
    by_id: dict[str, str] = {}
    for path in iter_files(root):
        try:
            doc = load_file(path, root, int(max_file_mb * 1e6))
        except LoadError as exc:
            skipped.append(SkippedFile(str(path), str(exc)))
            continue
        except OSError as exc:
            skipped.append(SkippedFile(str(path), f"cannot read file: {exc.strerror or exc}"))
            continue
        if doc.sha256 in by_hash:
            skipped.append(SkippedFile(str(path), f"duplicate of {by_hash[doc.sha256]} (same content)"))
            continue
        if doc.doc_id in by_id:
            skipped.append(
                SkippedFile(str(path), f"document id '{doc.doc_id}' already taken by {by_id[doc.doc_id]}")
            )
            continue
        by_hash[doc.sha256] = str(path)
        by_id[doc.doc_id] = str(path)
        docs.append(doc)
    return docs, skipped
