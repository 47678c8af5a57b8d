"""Extractive answers: the reply is the sentences of the best retrieved passage that share the most words
with the question, cited as [1], with the sources listed. When retrieval finds nothing above the no-answer
threshold, the reply says so and points to customer service.

This is the grounded fallback the design calls for when generation is unavailable or its output fails the
grounding check; it is what `python -m bot.cli` answers with until the fine-tuned LM lands. It never
writes text that is not in a passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge import Passage, RetrievalResult, tokenize

NO_ANSWER = (
    "I'm sorry, I don't have that information in Fernhollow Bank's help documents. "
    "A member of our team can help: call customer service on 1-800-555-0100."
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9*])")


@dataclass
class Answer:
    text: str
    sources: list[Passage] = field(default_factory=list)
    answerable: bool = True


def _clean(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def best_sentences(question: str, passage: str, limit: int = 2) -> str:
    sentences = [s for s in _SENTENCE.split(_clean(passage)) if s]
    if not sentences:
        return ""
    q = set(tokenize(question))
    scored = sorted(range(len(sentences)), key=lambda i: (-len(q & set(tokenize(sentences[i]))), i))
    keep = sorted(scored[:limit])
    return " ".join(sentences[i] for i in keep)


def answer(question: str, result: RetrievalResult, max_sources: int = 3) -> Answer:
    if not result.answerable or not result.passages:
        return Answer(NO_ANSWER, [], answerable=False)
    top = result.passages[0]
    text = f"{best_sentences(question, top.text)} [1]"
    return Answer(text, result.passages[:max_sources])
