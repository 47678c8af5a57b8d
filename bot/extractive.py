"""Extractive fallback: the sentences of a passage that share the most words with the question, quoted
as they are. The assistant answers with this (cited) when the model is down or when none of the model's
sentences survives the output guard; it never writes text that is not in a passage.
"""

from __future__ import annotations

from knowledge import tokenize

from .passage_text import sentences


def best_sentences(question: str, passage: str, limit: int = 2) -> str:
    found = [s for s in sentences(passage) if len(s) > 1]
    if not found:
        return ""
    q = set(tokenize(question))
    scored = sorted(range(len(found)), key=lambda i: (-len(q & set(tokenize(found[i]))), i))
    keep = sorted(scored[:limit])
    return " ".join(found[i].rstrip(".") + "." for i in keep).rstrip(".")
