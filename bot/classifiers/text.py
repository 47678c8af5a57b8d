"""Prepare a customer message for the classifiers and say what was done to it: Unicode normalisation,
control characters and HTML tags removed, emoji-only messages spelled out in words (VADER's emoji
lexicon), very long messages truncated, and non-Latin scripts flagged as unreliable for these
English models. Never raises on any string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MAX_CHARS = 2000
_TAG = re.compile(r"<[a-zA-Z/!][^>]{0,500}>")
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\t")


@dataclass(frozen=True)
class PreparedText:
    text: str
    notes: tuple[str, ...] = ()
    reliable: bool = True

    @property
    def empty(self) -> bool:
        return not self.text


@lru_cache(maxsize=1)
def _emoji_lexicon() -> dict[str, str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer().emojis


def prepare(text: object, max_chars: int = MAX_CHARS) -> PreparedText:
    notes: list[str] = []
    if not isinstance(text, str):
        text = "" if text is None else str(text)
        notes.append("not a string")
    text = unicodedata.normalize("NFKC", text).translate(_CONTROL)
    if _TAG.search(text):
        text = _TAG.sub(" ", text)
        notes.append("markup removed")
    text = " ".join(text.split())
    if len(text) > max_chars:
        text = text[:max_chars]
        notes.append(f"truncated to {max_chars} characters")
    if text and not any(c.isalnum() for c in text):
        lex = _emoji_lexicon()
        words = " ".join(lex[c] for c in text if c in lex)
        notes.append("emoji only" if words else "no words")
        text = words
    if not text:
        notes.append("empty")
        return PreparedText("", tuple(notes), reliable=False)
    letters = [c for c in text if c.isalpha()]
    latin = sum(1 for c in letters if ord(c) < 0x250)
    reliable = True
    if letters and latin / len(letters) < 0.5:
        notes.append("mostly non-Latin script: English models are unreliable here")
        reliable = False
    return PreparedText(text, tuple(notes), reliable)
