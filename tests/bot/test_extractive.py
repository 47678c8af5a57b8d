"""bot.extractive: the cited extract is made of passage sentences only, picked across passages; the prompt's
focus keeps each passage's best sentences under its own number; sentence embeddings are remembered."""

from __future__ import annotations

import numpy as np

from bot.extractive import (
    CachedEncoder,
    Focused,
    best_evidence,
    focus_passages,
    missing_figure,
    rank_sentences,
    uncovered_top,
)
from bot.figure_kinds import holds_kind, wanted_kinds
from knowledge import HashingEmbedder

PASSAGES = [
    "Everyday Checking is our most popular account. Open it online in minutes.",
    "The Everyday Checking monthly fee is $5. Premier Checking costs $25 a month.",
    "Branches open Monday to Friday from 9 am.",
]
PASSAGES_AS_OBJECTS = [Focused(t, "s", text) for t, text in zip("ABC", PASSAGES, strict=True)]


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


def test_focus_keeps_each_passages_best_sentences_best_first_and_the_numbering() -> None:
    emb = HashingEmbedder(dim=256)
    shown = focus_passages("how much is Premier", PASSAGES_AS_OBJECTS, emb.encode, per_passage=1)
    assert [p.title for p in shown] == ["A", "B", "C"]  # same passages, same order: citations still map
    assert shown[1].text == "Premier Checking costs $25 a month."  # its best sentence, the other dropped
    assert all("\n" not in p.text for p in shown)
    two = focus_passages("how much is Premier", PASSAGES_AS_OBJECTS, emb.encode, per_passage=2)
    assert two[1].text.split("\n") == [
        "Premier Checking costs $25 a month.",
        "The Everyday Checking monthly fee is $5.",
    ]
    whole = focus_passages("anything", PASSAGES_AS_OBJECTS, per_passage=0)
    assert [p.text for p in whole] == PASSAGES


def test_cached_encoder_returns_the_same_vectors_and_embeds_each_text_once() -> None:
    emb = HashingEmbedder(dim=64)
    seen: list[str] = []

    def encode(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return emb.encode(texts)

    cached = CachedEncoder(encode, max_items=3)
    first = cached(["a b", "c d", "a b"])
    assert np.allclose(first, emb.encode(["a b", "c d", "a b"])) and seen == ["a b", "c d"]
    again = cached(["c d", "e f"])
    assert np.allclose(again, emb.encode(["c d", "e f"])) and seen == ["a b", "c d", "e f"]
    cached(["g h"])  # over max_items: the oldest ("a b") is forgotten
    cached(["a b"])
    assert seen[-1] == "a b" and len(cached.memory) == 3


WIRE = [
    "Domestic wires are delivered the same business day. Wires sent after the cut-off go out the next "
    "business day. Requests received by 2:00 pm PT are sent today.",
    "Outgoing domestic wires cost $25.",
]


def test_kinds_of_figure_asked_for() -> None:
    assert wanted_kinds("what's the wire cut-off?") == ["time of day"]
    assert "duration" in wanted_kinds("how long does a replacement card take")
    assert "amount" in wanted_kinds("how much is an outgoing wire") and wanted_kinds("hello") == []
    assert holds_kind("Requests received by 2:00 pm PT are sent today.", ["time of day"])
    assert not holds_kind("Domestic wires are delivered the same business day.", ["time of day", "amount"])
    assert holds_kind("It takes 7 to 10 business days.", ["duration"])


def test_missing_figure_adds_the_passage_sentence_only_when_the_reply_lacks_that_kind() -> None:
    short = "Domestic wires are delivered the same business day [1]."
    added = missing_figure("what time is the wire cut-off", short, WIRE)
    assert added == "Requests received by 2:00 pm PT are sent today [1]."
    assert missing_figure("what time is the wire cut-off", short + " " + added, WIRE) == ""
    assert missing_figure("tell me about domestic wires", short, WIRE) == ""  # no figure asked for
    assert missing_figure("what time is the wire cut-off", short, ["Wires are fast. Wires are safe."]) == ""


def test_uncovered_top_adds_the_best_sentences_only_when_the_reply_lacks_what_they_hold() -> None:
    question = "what is the everyday checking monthly fee"
    ranked = rank_sentences(question, PASSAGES)
    top, second = ranked[0], ranked[1]
    assert "$5" in top.sentence

    def cited(e) -> str:
        return f"{e.sentence.rstrip('.')} [{e.passage}]."

    neighbour = "Everyday Checking is our most popular account [1]."
    assert uncovered_top(question, neighbour, PASSAGES, top=1) == [cited(top)]
    assert uncovered_top(question, neighbour, PASSAGES) == [cited(top), cited(second)]
    assert (
        uncovered_top(question, "The monthly fee is $5 [2].", PASSAGES, top=1) == []
    )  # its figures are there
    assert uncovered_top(question, f"{top.sentence} [2]", PASSAGES, top=1) == []  # quoted already
    both = f"{top.sentence} [2] {second.sentence} [{second.passage}]"
    assert uncovered_top(question, both, PASSAGES) == []
    wordy = ["Open Everyday Checking online in minutes with a phone and an ID."]
    assert uncovered_top("how do I open everyday checking", "You can apply in a branch [1].", wordy)
    assert uncovered_top("how do I open everyday checking", f"{wordy[0]} [1]", wordy) == []
    assert uncovered_top(question, neighbour, []) == []


def test_query_view_moves_the_question_before_ranking() -> None:
    """A view that swaps the question for the hours sentence's own embedding ranks that sentence first."""
    emb = HashingEmbedder(dim=256)
    hours = "Branches open Monday to Friday from 9 am."
    question = "what is the everyday checking monthly fee"
    assert rank_sentences(question, PASSAGES, emb.encode)[0].sentence != hours
    view = lambda q: emb.encode([hours])  # noqa: E731
    assert rank_sentences(question, PASSAGES, emb.encode, query_view=view)[0].sentence == hours
    assert best_evidence(question, PASSAGES, emb.encode, limit=1, query_view=view).startswith("Branches open")
