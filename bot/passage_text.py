"""Plain text of a retrieved passage, as the model reads it and as extracts quote it: Markdown tables become
one line per row ("Outgoing domestic wire: $25 online, $30 in a branch"), bullets and bold marks go, and
the text splits into sentences (one per line or per sentence end).

Used by the prompt (bot/prompts.py), the extractive fallback and the fine-tuning data builder, so the model
is trained and served on identical text. It does not choose which sentences answer a question.
"""

from __future__ import annotations

import re

_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SEP_ROW = re.compile(r"^\s*\|?\s*:?-{2,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9$\"'(])")
_ABBREV_END = re.compile(r"\b(?:a\.m|p\.m|e\.g|i\.e|etc|vs|Mr|Mrs|Ms|Dr|St|No)\.$")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table_lines(rows: list[str]) -> list[str]:
    """Markdown table rows -> "first cell: other cells" lines, using the header names when there are more
    than two columns."""
    header: list[str] | None = None
    body = rows
    if len(rows) >= 2 and _SEP_ROW.match(rows[1]):
        header, body = _cells(rows[0]), rows[2:]
    out = []
    for row in body:
        cells = _cells(row)
        if not any(cells):
            continue
        first, rest = cells[0], cells[1:]
        if header and len(header) == len(cells) and len(cells) > 2:
            rest = [f"{h}: {v}" for h, v in zip(header[1:], rest, strict=True) if v]
        out.append(f"{first}: {'; '.join(r for r in rest if r)}" if rest else first)
    return out


def _lines(text: str) -> list[tuple[str, bool]]:
    """Cleaned lines, each with whether it was a list item or a table row."""
    lines: list[tuple[str, bool]] = []
    table: list[str] = []
    for raw in text.replace("\r", "").split("\n"):
        line = raw.strip()
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            lines += [(t, True) for t in _table_lines(table)]
            table = []
        item = bool(_BULLET.match(line))
        line = _BULLET.sub("", line).replace("**", "").replace("__", "").strip()
        line = line.lstrip("#").strip()
        if line:
            lines.append((" ".join(line.split()), item))
    if table:
        lines += [(t, True) for t in _table_lines(table)]
    return lines


def clean_passage(text: str) -> str:
    """Markdown -> plain lines (tables flattened, bullets and emphasis removed, blank lines dropped)."""
    return "\n".join(line for line, _ in _lines(text))


def _join_lists(lines: list[tuple[str, bool]]) -> list[str]:
    """A line ending with ":" absorbs the list items under it: "To freeze a card: Open the app; Tap
    Cards; Tap Freeze card and confirm." keeps steps and phone lists whole."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line, _ = lines[i]
        i += 1
        if line.endswith(":"):
            items = []
            while i < len(lines) and lines[i][1] and len(items) < 8:
                items.append(lines[i][0].rstrip("."))
                i += 1
            if items:
                line = f"{line} {'; '.join(items)}."
        out.append(line)
    return out


def sentences(text: str) -> list[str]:
    """Sentences of a cleaned passage: each line (a list joined to its lead-in line), split further at
    sentence ends (not after "p.m.")."""
    out: list[str] = []
    for line in _join_lists(_lines(text)):
        parts = _SENTENCE_END.split(line)
        buf = ""
        for part in parts:
            buf = f"{buf} {part}".strip() if buf else part
            if not _ABBREV_END.search(buf.rstrip(".!?") + "."):
                out.append(buf)
                buf = ""
        if buf:
            out.append(buf)
    return [s for s in out if len(s) > 1]
