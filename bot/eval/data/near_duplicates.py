"""Held-out check for bot/eval/data/: no new question is a near-duplicate (token Jaccard) of a question the
project already uses for training or for other evaluations, and no two new questions are near-duplicates of
each other. Called by check_questions.py (run that); it returns messages and does no I/O of its own.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Sequence

JACCARD_REF_LIMIT = 0.5
JACCARD_SELF_LIMIT = 0.6

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
Labelled = tuple[str, frozenset[str]]  # (where the question comes from, its tokens)


def tokens(text: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(text.lower()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def reference_duplicates(texts: Sequence[tuple[str, str]], refs: Sequence[Labelled]) -> list[str]:
    """A message for each new text (id, text) with Jaccard >= JACCARD_REF_LIMIT to a reference question."""
    index: dict[str, list[int]] = collections.defaultdict(list)
    for i, (_, toks) in enumerate(refs):
        for t in toks:
            index[t].append(i)
    found = []
    for rid, text in texts:
        toks = tokens(text)
        candidates = {i for t in toks for i in index.get(t, ())}
        best = max(((jaccard(toks, refs[i][1]), i) for i in candidates), default=(0.0, -1))
        if best[0] >= JACCARD_REF_LIMIT:
            found.append(f"{rid}: near-duplicate (Jaccard {best[0]:.2f}) of {refs[best[1]][0]}: {text!r}")
    return found


def own_duplicates(own: Sequence[Labelled]) -> list[str]:
    """A message for each pair of new questions with Jaccard >= JACCARD_SELF_LIMIT."""
    found = []
    for a in range(len(own)):
        for b in range(a + 1, len(own)):
            score = jaccard(own[a][1], own[b][1])
            if score >= JACCARD_SELF_LIMIT:
                found.append(f"{own[a][0]} and {own[b][0]} are near-duplicates (Jaccard {score:.2f})")
    return found
