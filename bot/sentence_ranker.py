"""A learned order for "which passage sentence answers this question", used to complete replies and for
the fallback extract.

`bot/extractive.rank_sentences` orders the retrieved passages' sentences with a hand-weighted score (cosine,
shared words, a figure bonus, passage rank). That order also focuses the prompt, and must stay as it is there
because the LM adapter was trained on it. Completion (`uncovered_top`, `missing_figure`) and the fallback
extract can use a better one: this module scores each sentence with a linear model over FEATURES, fitted as
a softmax over each question's candidates (`python -m finetune sentence-ranker`), and orders by the score.

The features the hand-weighted score lacks are `cosine_section`, the question against the sentence read with
its section heading ("Outgoing wires: The fee is $30."; a list item or table row often holds the figure
asked for without naming what it is about, the heading says it), and the late-interaction `maxsim` family:
each question token's best match among the sentence's token vectors (ColBERT's MaxSim, here on
all-MiniLM-L6-v2's own token outputs), and the reverse. A pooled embedding blurs "the fee for an outgoing
wire" and "the cut-off for an outgoing wire"; token matches keep "fee" apart. They need the encoder's
token vectors (`encode.tokens`, bot/extractive.CachedEncoder given the embedder's `encode_with_tokens`).

The weights are a small JSON file (bot/models/sentence_ranker.json). Pure NumPy at serving; nothing here
trains, retrieves or decides what a reply says.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge import tokenize

from .figure_kinds import FIGURE_QUESTION, holds_kind, wanted_kinds
from .guards.grounding import figures

DEFAULT_PATH = Path(__file__).resolve().parent / "models" / "sentence_ranker.json"
FEATURES = (
    "cosine",  # question vs sentence embedding
    "cosine_view",  # the question moved by the retrieval's query adapter vs the sentence
    "cosine_view_gap",  # cosine_view minus the best cosine_view among the candidates (0 for the best)
    "cosine_gap",  # cosine minus the best cosine among the candidates
    "cosine_section",  # the adapted question vs "<section heading>: <sentence>"
    "shared_words",  # question words the sentence has
    "shared_share",  # ... as a share of the question's words
    "has_figure",  # the sentence holds a figure
    "asks_figure_has_figure",  # the question asks for a figure and the sentence holds one
    "kind_match",  # the sentence holds the kind of figure asked for (bot/figure_kinds)
    "kind_missing",  # a kind is asked for and the sentence holds none of it
    "passage_rank",  # 0 for the best retrieved passage
    "position",  # order of the sentence within its passage (0 first, capped at 5)
    "log_length",  # log of the sentence's length in characters
    "maxsim",  # mean over the question's tokens of their best cosine with a token of the sentence
    "maxsim_section",  # ... with a token of "<section heading>: <sentence>"
    "maxsim_back",  # mean over the sentence's tokens of their best cosine with a question token
    "maxsim_back_section",  # ... over the tokens of "<section heading>: <sentence>"
)
Encoder = Callable[[list[str]], np.ndarray]
QueryView = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Candidate:
    """A sentence to score: its text, 1-based passage number, position within that passage, and the
    passage's section heading."""

    sentence: str
    passage: int
    position: int
    section: str = ""


def candidate_features(
    question: str, candidates: Sequence[Candidate], encode: Encoder, query_view: QueryView | None = None
) -> np.ndarray:
    """One row of FEATURES per candidate: what serving scores and `python -m finetune sentence-ranker`
    fits."""
    if not candidates:
        return np.zeros((0, len(FEATURES)))
    tokens = getattr(encode, "tokens", None)
    if tokens is None:
        raise ValueError("the learned sentence ranker needs an encoder with token vectors (CachedEncoder with "
                         "encode_with_tokens)")  # fmt: skip
    sections = [f"{c.section}: {c.sentence}" if c.section else c.sentence for c in candidates]
    vecs = encode([question, *(c.sentence for c in candidates)])
    in_section = encode(sections)
    q_tok, *sent_tok = tokens([question, *(c.sentence for c in candidates)])
    sec_tok = tokens(sections)
    q_raw = vecs[0]
    q_view = query_view(vecs[:1])[0] if query_view is not None else q_raw
    cos, cos_view, cos_section = vecs[1:] @ q_raw, vecs[1:] @ q_view, in_section @ q_view
    q_words = set(tokenize(question))
    asks_figure = bool(FIGURE_QUESTION.search(question))
    kinds = wanted_kinds(question)
    rows = []
    for i, c in enumerate(candidates):
        shared = len(q_words & set(tokenize(c.sentence)))
        has_fig = bool(figures(c.sentence))
        match = bool(kinds) and holds_kind(c.sentence, kinds)
        rows.append(
            [
                cos[i],
                cos_view[i],
                cos_view[i] - cos_view.max(),
                cos[i] - cos.max(),
                cos_section[i],
                shared,
                shared / max(1, len(q_words)),
                has_fig,
                asks_figure and has_fig,
                match,
                bool(kinds) and not match,
                c.passage - 1,
                min(c.position, 5),
                math.log(max(1, len(c.sentence))),
                *late_interaction(q_tok, sent_tok[i], sec_tok[i]),
            ]
        )
    return np.asarray(rows, dtype=np.float64)


def late_interaction(question: np.ndarray, sentence: np.ndarray, in_section: np.ndarray) -> list[float]:
    """maxsim, maxsim_section, maxsim_back, maxsim_back_section for token vectors (unit rows)."""

    def forward_back(q: np.ndarray, s: np.ndarray) -> tuple[float, float]:
        if not len(q) or not len(s):
            return 0.0, 0.0
        sims = q @ s.T
        return float(sims.max(axis=1).mean()), float(sims.max(axis=0).mean())

    (f, b), (fs, bs) = forward_back(question, sentence), forward_back(question, in_section)
    return [f, fs, b, bs]


@dataclass(frozen=True)
class SentenceRanker:
    """A linear score over standardised FEATURES (higher is better); `meta` records how it was fitted."""

    weights: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    meta: dict

    def score(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights

    def to_json(self) -> str:
        doc = {
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
            "mean": [round(float(m), 6) for m in self.mean],
            "scale": [round(float(s), 6) for s in self.scale],
            "meta": self.meta,
        }
        return json.dumps(doc, indent=1) + "\n"

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> SentenceRanker | None:
        """The ranker in `path`, or None when the file is missing, damaged or fitted on other features."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("features") != list(FEATURES):
                return None
            arrays = [np.asarray(doc[k], dtype=np.float64) for k in ("weights", "mean", "scale")]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if (
            any(a.shape != (len(FEATURES),) or not np.isfinite(a).all() for a in arrays)
            or (arrays[2] <= 0).any()
        ):
            return None
        return cls(*arrays, doc.get("meta", {}))


def ranker_for(setting: str) -> SentenceRanker | None:
    """The ranker a `BOT_SENTENCE_RANKER` setting names: "" the packaged file (None if it is absent, so the
    hand-weighted order is used), "none" none, a path that file (ValueError saying what to do if it is
    missing or does not fit)."""
    name = setting.strip()
    if name.lower() == "none":
        return None
    path = Path(name) if name else DEFAULT_PATH
    ranker = SentenceRanker.load(path)
    if ranker is None and name:
        raise ValueError(
            f"sentence ranker {path} is missing, damaged or fitted on other features; fit one with "
            "`python -m finetune sentence-ranker --out PATH` or set BOT_SENTENCE_RANKER=none"
        )
    return ranker
