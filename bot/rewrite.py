"""Follow-up rewriting for retrieval: an elliptical message ("and for premier?", "what about wires?",
"how long does that take?") is searched together with the previous question of the session, so the
retriever sees the topic the customer is still talking about. A self-contained question is searched as
it is. Deterministic and cheap (no model call); the LM still sees the real history and the real question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_FOLLOW_UP_START = re.compile(
    r"^(and|but|also|so|then|or|what about|how about|what if|same for|and for|and the|and what|"
    r"is that|is it|does it|does that|can i|how long|how much|which one|why)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(it|that|this|those|these|they|them|one|there|same)\b", re.IGNORECASE)
_CONTENT = re.compile(r"[a-z]{4,}", re.IGNORECASE)
_STOP = {"what", "about", "does", "that", "this", "there", "they", "them", "those", "these", "much", "long",
         "take", "with", "have", "will", "would", "could", "should", "then", "also", "same", "which", "when",
         "where", "mine", "your", "please", "thanks", "okay"}  # fmt: skip


def is_follow_up(question: str) -> bool:
    q = question.strip()
    words = q.split()
    content = [w for w in _CONTENT.findall(q.lower()) if w not in _STOP]
    if len(words) <= 4 and len(content) <= 2:
        return True
    if _FOLLOW_UP_START.match(q) and len(content) <= 4:
        return True
    return bool(_PRONOUN.search(q)) and len(content) <= 2


def rewrite(question: str, previous_questions: Sequence[str]) -> str:
    """The retrieval query for `question` given the session's earlier customer messages (oldest first)."""
    if not previous_questions or not is_follow_up(question):
        return question
    return f"{previous_questions[-1].strip()} {question.strip()}"
