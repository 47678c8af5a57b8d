"""Plain data types passed along the knowledge pipeline: a loaded document, a chunk, a retrieved passage,
a skipped file and the result of one retrieval. No behaviour beyond small conversions lives here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SourceDocument:
    """One file's text, as Markdown-like text with headings, plus its front-matter metadata."""

    doc_id: str
    path: str
    title: str
    url: str
    text: str
    sha256: str
    product: str = ""
    last_updated: str = ""
    kind: str = "markdown"


@dataclass(frozen=True)
class Chunk:
    """A piece of one section of a document; `heading_path` is "Title > Section > Subsection"."""

    chunk_id: str
    doc_id: str
    title: str
    section: str
    heading_path: str
    url: str
    text: str

    def embedding_text(self) -> str:
        """What gets embedded and lexically indexed: the heading path gives the body its context."""
        return f"{self.heading_path}\n{self.text}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores. `score` is the dense cosine similarity (comparable across
    queries); `fused_score` is the rank-fusion score used for ordering."""

    text: str
    doc_id: str
    title: str
    section: str
    heading_path: str
    url: str
    chunk_id: str
    score: float
    fused_score: float = 0.0

    def citation(self) -> str:
        return f"{self.title} > {self.section} ({self.url})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RetrievalResult:
    query: str
    passages: list[Passage] = field(default_factory=list)
    top_score: float = 0.0
    answerable: bool = False
    threshold: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)
    scope_probability: float | None = None  # P(the library answers this), when a scope model is loaded
    features: list[float] = field(default_factory=list)  # retrieval features fed to the scope model

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["passages"] = [p.to_dict() for p in self.passages]
        return d
