"""Extractive answers: the sentences of the retrieved passages that best answer the question, quoted as they
are and cited with their passage numbers. The assistant answers with this when the model is down, when none
of the model's sentences survives the output guard, or when the model declines a question the retrieval
says the library answers. It never writes text that is not in a passage.

It also focuses the prompt: `focus_passages` keeps each passage's FOCUS_SENTENCES best sentences, best
first, so the model reads ~920 instead of ~2,160 characters of passages and the answer usually opens its
passage. On the 284 answerable bot/eval questions the focused top-3 passages still hold every gold fact for
88.4% of questions (95.1% for the whole passages; 4 sentences: 91.2% at 1,190 characters).

A sentence's score: cosine similarity of its embedding with the question's (when an encoder is given), plus
0.05 per shared word, plus 0.08 when the question asks for a figure (how much, rate, fee, limit, when, ...)
and the sentence holds one, minus 0.02 per rank of its passage. The weights were set once, by reading
replies, not fitted to an evaluation set. On the 284 answerable questions of bot/eval the two best sentences
of the top three passages hold every gold fact for 70.8% of questions (59.5% without the encoder), against
61.6% for the previous rule (word overlap within the top passage only); the retrieval's ceiling (a gold fact
anywhere in the three passages) is 94.7%.

`missing_figure` completes a reply: when the question asks for a kind of figure (FIGURE_KINDS: a time of
day for "cut-off", a duration for "how long", an amount for "fee", a percentage for "rate", a phone number
for "call") and the reply holds none of that kind, it returns the best of the top three sentences that
holds one. Tried and not adopted (2026-11-24): the same kinds as a ranking bonus (+0.08). It lifted the
best sentence holding the answer from 69.8% to 74.8% on knowledge/eval/questions.jsonl (documents outside
finetune's held-out set), but the adapter retrained on data ranked that way scored gold facts 0.333 on
`python -m finetune eval` against 0.383 for the committed adapter (0.358 for the committed adapter shown
prompts ranked that way), so ranking, focus and training data stay as they were.

Completion and the fallback extract take the learned order of bot/sentence_ranker.py when the assistant has
one (`BOT_SENTENCE_RANKER`, default the packaged bot/models/sentence_ranker.json): a linear score over the
same parts plus the question against the sentence read under its section heading, fitted by `python -m
finetune sentence-ranker`. The prompt's focus keeps the hand-weighted order below.

`uncovered_top` completes it further: the two best-ranked sentences (EVIDENCE_SENTENCES, the same number the
fallback extract quotes), each one the reply does not carry (quoted, or its figures, or for a sentence
without figures most of its words). For this ranking (and the fallback extract's) the question's embedding
goes through the retrieval's query adapter (`query_view`), trained on knowledge/eval/retrieval_train*.jsonl
to move customers' wording toward the library's; the prompt's focus keeps the raw embedding, because the
LM's LoRA adapter was trained on prompts ranked that way. Chosen on knowledge/eval/questions.jsonl (315
answerable; documents outside finetune's held-out set; not bot/eval), replies of the real assistant holding
the gold fact: best sentence only (the previous rule) 198 (0.629); replayed on those replies: best two 211,
best one with the query adapter 199, best two with it 223; run for real: 226 (0.717; 28 gained, 0 lost;
reply length p50 269 -> 388 characters). Ranking alone, best sentence
holding the gold fact: 0.530 raw, 0.546 with the adapter. Tried, not adopted: rescoring sentences with the
base SmolLM2's log-likelihood of the question (UPR) over the six best: 0.479 alone, at most 0.546 mixed in.
Also tried, not adopted (2026-11-25): a logistic regression over this score's parts (raw and adapted cosine,
gap to the best, shared words, figure and figure-kind flags, passage rank, position, length), fitted on the
3 retrieved passages of knowledge/eval/questions.jsonl's 296 questions that have a gold sentence, 5 folds
grouped by document: gold sentence at rank 1 / within 2 / within 3 out of fold 0.591 / 0.757 / 0.824 against
0.581 / 0.757 / 0.824 for this order; adding the question-sentence embedding product (384 features) gave at
most 0.591 / 0.770 / 0.824. The gold sentence is often third or lower for a reason these features do not see.
Also tried, not adopted (2026-11-26): a third and fourth best sentence. Replayed on the real assistant's
replies to the 242 answerable knowledge/eval/questions.jsonl questions that took the answer route, gold
fact in the reply 180 (top two, as now) -> 187 (top three) -> 193 (top four), median reply 306 -> 396 ->
518 characters; adding the third only within 0.02-0.15 of the second's score gave 181-186 for 329-389
characters. Three points for a third more text did not pay for the longer replies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge import tokenize

from .figure_kinds import FIGURE_QUESTION, holds_kind, wanted_kinds
from .guards.grounding import figures
from .prompts import FOCUS_SENTENCES, PassageLike, shown_sentences
from .sentence_ranker import Candidate, SentenceRanker, candidate_features

Encoder = Callable[[list[str]], np.ndarray]  # texts -> unit-normalised embeddings, one row per text
QueryView = Callable[[np.ndarray], np.ndarray]  # query embeddings (rows) -> as retrieval compares them
EVIDENCE_SENTENCES = 2  # passage sentences an answer quotes or covers: the fallback extract and completion


@dataclass(frozen=True)
class Evidence:
    sentence: str
    passage: int  # 1-based number of the passage in the prompt
    score: float
    position: int  # order of the sentence across the passages, as shown


def rank_sentences(
    question: str,
    passages: Sequence[str],
    encode: Encoder | None = None,
    query_view: QueryView | None = None,
    ranker: SentenceRanker | None = None,
    sections: Sequence[str] = (),
) -> list[Evidence]:
    """Every sentence of the passages (as the prompt shows them), best first. `query_view` moves the
    question's embedding before the comparison (the retrieval's query adapter, `KnowledgeBase.query_view`).
    With a learned `ranker` (and an encoder with token vectors) its score orders the sentences instead of the
    hand-weighted one;
    `sections` are the passages' headings, which it reads. The prompt's focus never passes a ranker."""
    found = candidates(passages, sections)
    if not found:
        return []
    if ranker is not None and getattr(encode, "tokens", None) is not None:
        scores = ranker.score(candidate_features(question, found, encode, query_view))
        return sorted(
            (Evidence(c.sentence, c.passage, float(scores[i]), i) for i, c in enumerate(found)),
            key=lambda e: -e.score,
        )
    q_words = set(tokenize(question))
    wants_figure = bool(FIGURE_QUESTION.search(question))
    if encode is not None:
        vecs = encode([question, *(c.sentence for c in found)])
        q = query_view(vecs[:1])[0] if query_view is not None else vecs[0]
        sims = vecs[1:] @ q
    else:
        sims = np.zeros(len(found))
    scored = [
        Evidence(
            c.sentence,
            c.passage,
            float(sims[i])
            + 0.05 * len(q_words & set(tokenize(c.sentence)))
            + (0.08 if wants_figure and figures(c.sentence) else 0.0)
            - 0.02 * (c.passage - 1),
            i,
        )
        for i, c in enumerate(found)
    ]
    return sorted(scored, key=lambda e: -e.score)


def candidates(passages: Sequence[str], sections: Sequence[str] = ()) -> list[Candidate]:
    """The passages' sentences as the prompt shows them, with passage number, position and heading."""
    out = []
    for n, text in enumerate(passages, start=1):
        kept = [s for s in shown_sentences(text) if len(s) > 1]
        section = sections[n - 1] if n <= len(sections) else ""
        out += [Candidate(s, n, i, section) for i, s in enumerate(kept)]
    return out


class CachedEncoder:
    """`encode` with a bounded memory of sentence embeddings: the library's sentences recur turn after turn,
    so a turn only embeds its question and sentences it has not seen (oldest entries evicted first).

    Given `encode_with_tokens` (knowledge's `TokenEmbedder.encode_with_tokens`), texts it has not seen go
    through that instead, in one pass, and `tokens(texts)` also returns each text's token vectors (kept in
    float16, at most `max_token_items` texts: about 20 KB per sentence), which the learned sentence ranker
    reads (bot/sentence_ranker.py). Without it `tokens` is None."""

    def __init__(
        self,
        encode: Encoder,
        max_items: int = 20_000,
        encode_with_tokens: Callable[[list[str]], tuple[np.ndarray, list[np.ndarray]]] | None = None,
        max_token_items: int = 6_000,
    ) -> None:
        self.encode, self.max_items = encode, max_items
        self.with_tokens, self.max_token_items = encode_with_tokens, max_token_items
        self.memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self.token_memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()
        if encode_with_tokens is None:
            self.tokens = None  # type: ignore[assignment]

    @staticmethod
    def _remember(memory: OrderedDict, key: str, value: np.ndarray, cap: int) -> None:
        memory[key] = value
        while len(memory) > cap:
            memory.popitem(last=False)

    def _fill(self, missing: list[str]) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Embeds texts in one pass and remembers their vectors, and their token vectors when it has them."""
        vecs, toks = self.with_tokens(missing) if self.with_tokens else (self.encode(missing), None)
        with self.lock:
            for i, t in enumerate(missing):
                self._remember(self.memory, t, vecs[i], self.max_items)
                if toks is not None:
                    self._remember(self.token_memory, t, toks[i].astype(np.float16), self.max_token_items)
        return vecs, toks

    def _lookup(self, texts: list[str], memory: OrderedDict, which: int) -> list[np.ndarray]:
        """Each text's entry of `memory`; the unseen are filled in one pass (`which` picks vectors, 0, or
        token vectors, 1, from it)."""
        with self.lock:
            known = {t: memory[t] for t in texts if t in memory}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self._fill(missing)[which], strict=True))
        return [known[t] for t in texts]

    def __call__(self, texts: list[str]) -> np.ndarray:
        return np.stack(self._lookup(texts, self.memory, 0))

    def tokens(self, texts: list[str]) -> list[np.ndarray]:
        """Each text's token vectors (float32, unit rows), from memory or one pass for the unseen."""
        return [np.asarray(k, dtype=np.float32) for k in self._lookup(texts, self.token_memory, 1)]


@dataclass(frozen=True)
class Focused:
    """A passage as the focused prompt shows it: its best sentences, one per line, best first."""

    title: str
    section: str
    text: str


def focus_passages(
    question: str,
    passages: Sequence[PassageLike],
    encode: Encoder | None = None,
    per_passage: int = FOCUS_SENTENCES,
) -> list[Focused]:
    """Each passage cut to its `per_passage` best sentences for `question` (ranked by `rank_sentences`),
    best first, same numbering. `per_passage` 0 keeps the passages whole. Training rows and served prompts
    both go through here, so the model is trained on what it is shown."""
    if per_passage <= 0:
        return [Focused(p.title, p.section, p.text) for p in passages]
    ranked = rank_sentences(question, [p.text for p in passages], encode)
    out = []
    for n, p in enumerate(passages, start=1):
        best = [e.sentence for e in ranked if e.passage == n][:per_passage]
        out.append(Focused(p.title, p.section, "\n".join(best)))
    return out


def best_evidence(
    question: str,
    passages: Sequence[str],
    encode: Encoder | None = None,
    limit: int = EVIDENCE_SENTENCES,
    query_view: QueryView | None = None,
    said: str = "",
    *,
    ranker: SentenceRanker | None = None,
    sections: Sequence[str] = (),
) -> str:
    """The `limit` best sentences in passage order, each cited: "Sentence [2]. Sentence [1]." ("" if none).
    Sentences that `said` (what the reply already shows) quotes are passed over, so none is said twice."""
    ranked = [
        e
        for e in rank_sentences(question, passages, encode, query_view, ranker, sections)
        if not _quoted(e.sentence, said)
    ]
    top = sorted(ranked[:limit], key=lambda e: e.position)
    return " ".join(_cited(e) for e in top)


def _quoted(sentence: str, reply: str) -> bool:
    """The reply already quotes the sentence (case aside, final full stop aside)."""
    return sentence.rstrip(".").lower() in reply.lower()


def _cited(e: Evidence) -> str:
    """A passage sentence as the assistant quotes it, cited: Sentence [2]."""
    return f"{e.sentence.rstrip('.')} [{e.passage}]."


def missing_figure(
    question: str,
    reply: str,
    passages: Sequence[str],
    encode: Encoder | None = None,
    within: int = 3,
    *,
    query_view: QueryView | None = None,
    ranker: SentenceRanker | None = None,
    sections: Sequence[str] = (),
) -> str:
    """When the question asks for a kind of figure (FIGURE_KINDS) that the reply does not hold: the best
    of the `within` top-ranked passage sentences that holds one, cited ("Sentence [2]."); "" otherwise, or
    when that sentence is already in the reply. A small model often quotes the right passage's opening
    line and stops before the figure the customer asked for; this adds the passage's own sentence."""
    kinds = wanted_kinds(question)
    if not kinds or holds_kind(reply, kinds):
        return ""
    for e in rank_sentences(question, passages, encode, query_view, ranker, sections)[:within]:
        if holds_kind(e.sentence, kinds):
            if _quoted(e.sentence, reply):
                return ""
            return _cited(e)
    return ""


def uncovered_top(
    question: str,
    reply: str,
    passages: Sequence[str],
    encode: Encoder | None = None,
    *,
    top: int = EVIDENCE_SENTENCES,
    share: float = 0.6,
    query_view: QueryView | None = None,
    ranker: SentenceRanker | None = None,
    sections: Sequence[str] = (),
) -> list[str]:
    """The `top` best-ranked passage sentences that the reply does not carry, best first, each cited
    ("Sentence [1]."). A sentence is carried when the reply quotes it, holds all its figures, or, for a
    sentence without figures, holds more than `share` of its words; each one is checked against the reply
    plus the sentences added before it. The model often quotes a neighbour of the best sentence."""
    out: list[str] = []
    text = reply
    for e in rank_sentences(question, passages, encode, query_view, ranker, sections)[:top]:
        if not _carries(text, e.sentence, share):
            out.append(_cited(e))
            text = f"{text} {out[-1]}"
    return out


def _carries(reply: str, sentence: str, share: float) -> bool:
    if _quoted(sentence, reply):
        return True
    found = {f.canon for f in figures(sentence)}
    if found:
        return not found - {f.canon for f in figures(reply)}
    words = set(tokenize(sentence))
    return not words or len(words & set(tokenize(reply))) > share * len(words)
