"""The reply step (bot/reply.py) on its own: a hand-built turn state with two passages, the fake LM and the
project's hashing embedder, so every branch is driven directly: verified sentences stream, an invented figure is
dropped, a decline with no answer becomes "don't know" with the contact line, a decline the retrieval
overrules becomes an extract, the model down becomes a marked extract, and a reply that stops short of the
asked figure is completed from the passages."""

from __future__ import annotations

from bot.guards.input_guard import GuardedInput
from bot.llm import BackendError, FakeBackend
from bot.prompts import DONT_KNOW, HANDOFF_OFFER
from bot.reply import ReplyWriter, is_decline
from bot.safety import Quote
from bot.steps import TurnState
from knowledge import HashingEmbedder
from knowledge.schema import Passage, RetrievalResult

FEE = "The Everyday Checking monthly fee is $5."
WAIVE = "The fee is waived with direct deposits of $500 or more a month."
HOURS = "Branches are open from 9 am to 5 pm on weekdays."
CONTACT = Passage("Call 1-800-555-0199 any time.", "contact-us", "Contact us", "Phone", "", "u", "c1", 0.9)


def passage(text: str, doc: str) -> Passage:
    return Passage(text, doc, doc.title(), "Section", "", f"https://bank.example/{doc}", doc, 0.8)


def state(question: str, answerable: bool = True) -> TurnState:
    ps = [passage(f"{FEE} {WAIVE}", "checking"), passage(HOURS, "branches")]
    s = TurnState("s1", question, guarded=GuardedInput(question))
    s.passages = ps
    s.retrieval = RetrievalResult(question, ps, 0.8, answerable)
    s.messages = [{"role": "user", "content": question}]
    return s


def writer(reply) -> ReplyWriter:
    backend = reply if isinstance(reply, FakeBackend) else FakeBackend(reply)
    return ReplyWriter(
        backend, HashingEmbedder().encode, None, lambda: Quote("Call 1-800-555-0199 any time [1].", [CONTACT])
    )


def run(w: ReplyWriter, s: TurnState) -> tuple[list[str], dict]:
    guard: dict = {}
    return list(w.stream(s, guard)), guard


def test_verified_sentences_stream_and_invented_figures_are_dropped() -> None:
    s = state("what is the monthly fee on everyday checking?")
    out, guard = run(writer("The monthly fee is $5 [1]. It is $9 on weekends [1]."), s)
    assert out[0] == "The monthly fee is $5 [1]."
    assert not any("$9" in t for t in out)
    assert [d["sentence"] for d in guard["dropped"]] == ["It is $9 on weekends [1]."]
    assert s.status == "ok" and s.route == "answer" and "first_token" in s.timings_ms


def test_a_decline_with_no_answer_in_the_library_says_so_with_the_contact_line() -> None:
    s = state("can I get a money order?", answerable=False)
    out, _ = run(writer("I'm sorry, I don't have that information."), s)
    assert out == [f"{DONT_KNOW} Call 1-800-555-0199 any time [1]."]
    assert s.route == "dont_know" and s.passages == [CONTACT] and HANDOFF_OFFER in s.suffix


def test_a_decline_the_retrieval_overrules_becomes_a_cited_extract() -> None:
    s = state("what is the monthly fee on everyday checking?")
    out, guard = run(writer("I'm sorry, I don't have that information."), s)
    assert guard["model_declined"] and s.status == "fallback" and s.route == "answer"
    assert "$5 [1]" in out[-1]


def test_a_scripted_turn_adds_no_dont_know_of_its_own() -> None:
    s = state("my card was stolen, what now?", answerable=False)
    guard: dict = {}
    out = list(writer("I'm sorry, I don't have that information.").stream(s, guard, scripted=True))
    assert out == [] and guard["model_declined"] and s.route == "answer"


def test_the_model_down_gives_a_marked_extract() -> None:
    def down(request):
        raise BackendError("connection refused")

    s = state("what is the monthly fee on everyday checking?")
    out, guard = run(writer(down), s)
    assert s.status == "fallback" and guard["fallback"] == "model down"
    assert "connection refused" in guard["backend_error"] and "$5 [1]" in out[-1]


def test_a_reply_short_of_the_asked_figure_is_completed_from_the_passages() -> None:
    s = state("how much is the monthly fee on everyday checking?")
    out, guard = run(writer("Everyday Checking has a monthly fee [1]."), s)
    assert out[0] == "Everyday Checking has a monthly fee [1]."
    assert guard["figure_added"] == "The Everyday Checking monthly fee is $5 [1]."
    assert "The Everyday Checking monthly fee is $5 [1]." in out


def test_decline_sentences_are_recognised() -> None:
    assert is_decline("I'm sorry, I don't have that information.")
    assert is_decline(HANDOFF_OFFER)
    assert not is_decline(FEE)


def test_the_fallback_extract_does_not_quote_again_what_the_model_said() -> None:
    s = state("what is the monthly fee on everyday checking?")
    out, guard = run(writer(FEE), s)  # right, but uncited: the reply falls back to an extract
    assert guard["fallback"] == "no verified, cited sentence" and out[0] == FEE
    assert "$5 [1]" not in out[-1] and WAIVE.rstrip(".") in out[-1]
