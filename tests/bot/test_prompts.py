"""The prompt constants and formatting shared by serving and fine-tuning; the passage text cleaner and
the follow-up rewriter."""

from __future__ import annotations

from dataclasses import dataclass

from bot.passage_text import clean_passage, sentences
from bot.prompts import DONT_KNOW, DONT_KNOW_REPLY, HANDOFF_OFFER, SYSTEM_PROMPT, build_messages
from bot.rewrite import is_follow_up, rewrite


@dataclass
class P:
    title: str
    section: str
    text: str


TABLE = "| Transfer type | Fee |\n|---|---|\n| Outgoing domestic wire | $25 online, $30 in a branch |\n| Incoming wire | $15 |"


def test_system_prompt_wording_that_matters() -> None:
    for phrase in (
        "using only the numbered passages",
        "cite its passage number in brackets, like [1]",
        "Copy amounts, rates, dates and phone numbers exactly",
        '"I don\'t have that information."',
        "Never say you have done anything on the customer's account",
    ):
        assert phrase in SYSTEM_PROMPT
    assert f"{DONT_KNOW} {HANDOFF_OFFER}" == DONT_KNOW_REPLY and "don't have that information" in DONT_KNOW


def test_build_messages_numbers_passages_and_keeps_history_plain() -> None:
    hist = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    msgs = build_messages(
        "what is the wire fee?", [P("Fees", "Wires", TABLE), P("Cards", "ATM", "Limit $500.")], hist
    )
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    last = msgs[-1]["content"]
    assert last.startswith("Passages:\n[1] Fees - Wires\nOutgoing domestic wire: $25 online, $30 in a branch")
    assert "\n\n[2] Cards - ATM\nLimit $500." in last and last.endswith("Question: what is the wire fee?")


def test_clean_passage_and_sentences() -> None:
    assert clean_passage(TABLE) == "Outgoing domestic wire: $25 online, $30 in a branch\nIncoming wire: $15"
    text = "To freeze a card:\n1. Open the app.\n2. Tap **Freeze card**.\nCall by 5 p.m. ET on weekdays. Then wait."
    assert sentences(text) == [
        "To freeze a card: Open the app; Tap Freeze card.",
        "Call by 5 p.m. ET on weekdays.",
        "Then wait.",
    ]


def test_follow_up_rewriting() -> None:
    assert is_follow_up("and for premier?") and is_follow_up("what about international wires?")
    assert not is_follow_up("What is the monthly fee on Everyday Checking?")
    assert (
        rewrite("and for premier?", ["monthly fee on everyday checking?"])
        == "monthly fee on everyday checking? and for premier?"
    )
    assert rewrite("and for premier?", []) == "and for premier?"
