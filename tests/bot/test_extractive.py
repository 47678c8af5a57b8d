"""bot.extractive: the cited extract is made of passage sentences only, picked across passages."""

from __future__ import annotations

import numpy as np

from bot.extractive import best_evidence, rank_sentences
from knowledge import HashingEmbedder

PASSAGES = [
    "Everyday Checking is our most popular account. Open it online in minutes.",
    "The Everyday Checking monthly fee is $5. Premier Checking costs $25 a month.",
    "Branches open Monday to Friday from 9 am.",
]


def test_the_figure_sentence_of_a_later_passage_wins_for_a_figure_question() -> None:
    top = rank_sentences("how much is the monthly fee for everyday checking?", PASSAGES)
    assert top[0].passage == 2 and "$5" in top[0].sentence


def test_extract_quotes_passage_sentences_with_their_own_citations() -> None:
    emb = HashingEmbedder(dim=256)
    text = best_evidence("Everyday Checking monthly fee", PASSAGES, emb.encode, limit=2)
    assert "The Everyday Checking monthly fee is $5 [2]." in text
    for part in text.split("]."):
        if part.strip():
            sentence, n = part.rsplit(" [", 1)
            assert sentence.strip() in PASSAGES[int(n) - 1]  # quoted from the passage it cites


def test_encoder_similarity_changes_the_ranking() -> None:
    def encode(texts: list[str]) -> np.ndarray:  # prefers sentences that mention "branches"
        v = np.array([[1.0, 0.0] if ("hours" in t or "Branches" in t) else [0.0, 1.0] for t in texts])
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    assert rank_sentences("hours", PASSAGES, encode)[0].passage == 3


def test_no_passages_no_extract() -> None:
    assert best_evidence("anything", []) == "" and best_evidence("anything", ["  \n "]) == ""
