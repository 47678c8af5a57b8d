"""Which sentence of a passage a sentence-labelled training question points at.

knowledge/eval/sentence_train_*.jsonl label each question with the document sentence that answers it (as
written in the Markdown) and the short answer inside it. The prompt shows sentences without their markup, and
joins a list or a table to its lead-in line, so the labelled sentence and the shown one rarely match exactly:
`is_labelled` decides. Shared by the sentence ranker's trainer (finetune/sentence_ranker.py) and the LM data
builder (finetune/lm/data.py). It reads nothing and ranks nothing.
"""

from __future__ import annotations

import re

from bot.guards.grounding import contains_fact

_MARKUP = re.compile(r"\*\*|__|`|^\s*[-*]\s+|^\s*\d+\.\s+", re.MULTILINE)
_WORD = re.compile(r"[a-z0-9]+")


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", _MARKUP.sub("", text)).strip().lower()


def is_labelled(candidate: str, labelled: str, answer: str) -> bool:
    """The candidate holds the answer and is the labelled sentence: one inside the other once markup is
    gone, token Jaccard >= 0.5, or 80% of the labelled sentence's words in the candidate (the prompt joins a
    list or a table to its lead-in line, so a labelled item or row is part of a longer candidate)."""
    if not contains_fact(candidate, answer):
        return False
    a, b = _plain(candidate), _plain(labelled)
    if a in b or b in a:
        return True
    ta, tb = set(_WORD.findall(a)), set(_WORD.findall(b))
    return len(ta & tb) / max(1, len(ta | tb)) >= 0.5 or len(ta & tb) >= 0.8 * len(tb)
