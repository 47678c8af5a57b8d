"""What kind of figure a question asks for, and whether a sentence holds one: a cut-off asks for a time of
day, "how long" for a duration, a fee for an amount, a rate for a percentage, "call" for a phone number.

Shared by the sentence order (bot/extractive.py, bot/sentence_ranker.py) and reply completion. Regular
expressions only; it does not rank, retrieve or read the documents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

FIGURE_QUESTION = re.compile(
    r"\b(how much|how many|how long|how soon|how often|how late|what time|when|rates?|fees?|costs?|charges?|"
    r"limits?|minimum|maximum|max|min|apy|apr|interest|penalty|hours|phone|number|call|days?|deadline|"
    r"price|pay|percent(age)?)\b",
    re.IGNORECASE,
)
# (question asks for ..., sentence holds ...) per kind of figure
FIGURE_KINDS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "time of day": (
        re.compile(r"\b(what time|cut-?off|by when|hours|open|close|deadline|latest|late)\b", re.IGNORECASE),
        re.compile(r"\b\d{1,2}(:\d\d)?\s?(am|pm|a\.m\.|p\.m\.)|\b(midnight|noon)\b", re.IGNORECASE),
    ),
    "duration": (
        re.compile(
            r"\b(how long|how soon|how quickly|when will|when does|when do|when can|wait|til|until|days?|weeks?|"
            r"months?|years?|take)\b",
            re.IGNORECASE,
        ),
        re.compile(
            r"\b\d+(\s?(to|-|\u2013)\s?\d+)?\s+(business\s+|calendar\s+)?(days?|weeks?|months?|years?|hours?|"
            r"minutes?)\b",
            re.IGNORECASE,
        ),
    ),
    "amount": (
        re.compile(
            r"\b(how much|fees?|charges?|costs?|price|pay|limit|minimum|maximum|owe|amount)\b", re.IGNORECASE
        ),
        re.compile(r"[$\u00a3\u20ac]\s?\d"),
    ),
    "percentage": (
        re.compile(r"\b(rate|apy|apr|interest|percent(age)?)\b|%", re.IGNORECASE),
        re.compile(r"\d\s?%"),
    ),
    "phone number": (
        re.compile(r"\b(number|call|phone|line|contact|reach)\b", re.IGNORECASE),
        re.compile(r"\b\d{3}[\s.-]\d{3}[\s.-]\d{4}\b"),
    ),
}


def wanted_kinds(question: str) -> list[str]:
    """The kinds of figure (FIGURE_KINDS) the question asks for, e.g. ["time of day"] for a cut-off."""
    return [kind for kind, (asks, _) in FIGURE_KINDS.items() if asks.search(question)]


def holds_kind(sentence: str, kinds: Sequence[str]) -> bool:
    """Whether the sentence holds a figure of one of these kinds."""
    return any(FIGURE_KINDS[k][1].search(sentence) for k in kinds)


__all__ = ["FIGURE_KINDS", "FIGURE_QUESTION", "holds_kind", "wanted_kinds"]
