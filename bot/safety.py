"""Quote the bank's own documents for the parts of a reply the policy writes: the safety script for a
high-risk turn (what to do now, the 24/7 number), and how to reach a person. Sentences are chosen from
the named document's closest chunks (preferring ones with a phone number or an action such as freeze,
lock, call or report) and cited `[n]` against the passages returned with them. Nothing here is
generated, so nothing here can be invented.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge import Passage, tokenize

from .guards.grounding import figures
from .passage_text import sentences

_PHONE_HINT = re.compile(r"\b1-800-\d{3}-\d{4}\b")
_ACTION = re.compile(r"\b(freeze|lock|call|report|contact|text|change|reset|visit|tell us)\b", re.IGNORECASE)


@dataclass
class Quote:
    text: str  # cited sentences, e.g. "Call 1-800-555-0199 any time [1]."
    passages: list[Passage] = field(default_factory=list)


def _score(sentence: str, query_tokens: set[str]) -> float:
    phone = any(f.canon.startswith("tel:") for f in figures(sentence))
    return len(query_tokens & set(tokenize(sentence))) + 3.0 * phone + 1.5 * bool(_ACTION.search(sentence))


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def quote(kb, doc_id: str, query: str, *, first_n: int = 1, max_sentences: int = 3, k: int = 2) -> Quote:
    """Cited extract of document `doc_id` for `query`; citation numbers start at `first_n`. The same
    request on the same knowledge base is answered from a cache (safety scripts and contact lines repeat)."""
    key = (doc_id, query, first_n, max_sentences, k)
    with _LOCK:
        hit = _CACHE.get(kb, {}).get(key)
    if hit is not None:
        return Quote(hit.text, list(hit.passages))
    q = _quote(kb, doc_id, query, first_n=first_n, max_sentences=max_sentences, k=k)
    with _LOCK:
        _CACHE.setdefault(kb, {})[key] = q
    return Quote(q.text, list(q.passages))


def _quote(kb, doc_id: str, query: str, *, first_n: int, max_sentences: int, k: int) -> Quote:
    passages = kb.search_document(doc_id, query, k=k + 2)
    q = set(tokenize(query))
    scored: list[tuple[float, int, int, str]] = []
    for pi, p in enumerate(passages):
        for si, s in enumerate(sentences(p.text)):
            if len(s) >= 20:
                scored.append((_score(s, q) - 0.5 * pi, pi, si, s))
    ranked = sorted(scored, key=lambda t: -t[0])
    best = [t for t in ranked if t[1] < k][:max_sentences]
    has_phone = any(_PHONE_HINT.search(t[3]) for t in best)
    phone = next((t for t in ranked if _PHONE_HINT.search(t[3])), None)
    if not has_phone and phone is not None:  # a safety script always says whom to call
        best = [*best[: max_sentences - 1], phone]
    best.sort(key=lambda t: (t[1], t[2]))
    used = sorted({pi for _, pi, _, _ in best})
    number = {pi: first_n + j for j, pi in enumerate(used)}
    text = " ".join(f"{s.rstrip('.')} [{number[pi]}]." for _, pi, _, s in best)
    return Quote(text, [passages[pi] for pi in used])


def renumber(text: str, mapping: dict[int, int]) -> str:
    return re.sub(r"\[(\d{1,2})\]", lambda m: f"[{mapping.get(int(m.group(1)), int(m.group(1)))}]", text)


def merge_sources(
    first: Sequence[Passage], second: Sequence[Passage]
) -> tuple[list[Passage], dict[int, int]]:
    """Append `second` to `first`, reusing a number when the same chunk is already cited; returns the
    merged list and how `second`'s numbers (1-based) map into it."""
    merged = list(first)
    mapping: dict[int, int] = {}
    for i, p in enumerate(second, 1):
        same = [j for j, q in enumerate(merged, 1) if q.chunk_id == p.chunk_id]
        if same:
            mapping[i] = same[0]
        else:
            merged.append(p)
            mapping[i] = len(merged)
    return merged, mapping
