"""Grounding checks on a reply: which figures (amounts, percentages, times, dates, phone numbers, any
number) and which citations `[n]` it contains, and which of its figures no retrieved passage (or the
customer's own message) supports.

Figures are compared in a canonical form ("$1,800.00" == "$1800", "4.25 %" == "4.25%", "(800) 555-0199" ==
"800-555-0199" when the passage prints "1-800-555-0199"), so formatting differences are not flagged while a
changed digit is. Used by the output guard and by the LM evaluation, so both count the same way. It does not
decide what to do with an unsupported sentence (the output guard does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_CITATION = re.compile(r"\[(\d{1,2})\]")
_PHONE = re.compile(r"(?:\+?1[\s.-]?)?\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b")
_NUMBER = re.compile(r"(?<![\w.])[$£€]?\d+(?:[,.]\d+)*(?:\s?%)?")


@dataclass(frozen=True)
class Figure:
    text: str  # as written
    canon: str  # canonical form used for comparison
    start: int


def _canon_number(text: str) -> str:
    t = text.replace(" ", "")
    pct = t.endswith("%")
    money = t[:1] in "$£€"
    digits = re.sub(r"[^\d.]", "", t.replace(",", "")).strip(".")
    if "." in digits:
        digits = digits.rstrip("0").rstrip(".") or "0"
    return ("$" if money else "") + digits + ("%" if pct else "")


def _canon_phone(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return "tel:" + (digits[-10:] if len(digits) >= 10 else digits)


def figures(text: str) -> list[Figure]:
    """Every phone number and number in `text` except citation markers like [1]."""
    out: list[Figure] = []
    taken: list[tuple[int, int]] = []
    cites = [m.span() for m in _CITATION.finditer(text)]
    for m in _PHONE.finditer(text):
        out.append(Figure(m.group(0), _canon_phone(m.group(0)), m.start()))
        taken.append(m.span())
    for m in _NUMBER.finditer(text):
        s, _e = m.span()
        if any(a <= s < b for a, b in taken + cites):
            continue
        out.append(Figure(m.group(0), _canon_number(m.group(0)), s))
    return sorted(out, key=lambda f: f.start)


def support_set(texts: Iterable[str]) -> set[str]:
    """Canonical figures found in the given texts (passages, the customer's message), each also without its
    currency mark, so a bare "25" in a reply is supported by "$25" in a passage. The reverse does not hold:
    "$9" needs "$9" in a source ("9" in "9 am" or "9 branches" does not make an amount; the library writes
    every amount with its "$", table cells included)."""
    found: set[str] = set()
    for t in texts:
        for f in figures(t):
            found.add(f.canon)
            found.add(f.canon.lstrip("$"))
    return found


def unsupported_figures(reply: str, sources: Iterable[str]) -> list[Figure]:
    """Figures of `reply` that appear in none of `sources`."""
    known = support_set(sources)
    return [f for f in figures(reply) if f.canon not in known]


def citations(reply: str) -> list[int]:
    """Passage numbers cited in the reply, in order of first appearance."""
    seen: list[int] = []
    for m in _CITATION.finditer(reply):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def normalise(text: str) -> str:
    """Lower case, unified dashes and quotes, single spaces: for matching gold facts in replies."""
    t = text.lower().replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'")
    return " ".join(t.split())


def contains_fact(reply: str, fact: str) -> bool:
    """The fact appears in the reply, ignoring case, dash style and spacing; figures also match in
    canonical form ("$1,000" == "$1000")."""
    if normalise(fact) in normalise(reply):
        return True
    fact_figs = figures(fact)
    if fact_figs and len(fact_figs) == 1 and fact_figs[0].text.strip() == fact.strip():
        return fact_figs[0].canon in {f.canon for f in figures(reply)}
    return False
