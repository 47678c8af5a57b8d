"""Every piece of text the assistant's language model sees, in one place: the persona and rules, how
retrieved passages are numbered, the "don't know" reply and the handoff offer, and the function that turns
(history, passages, question) into chat messages.

`finetune` builds its training conversations with these same constants and `build_messages`, so the model
is trained on exactly the text it is served. Which sentences of a passage are shown (the focus) is
chosen in bot/extractive.py, also shared with `finetune`. Policy wording (safety scripts, disclaimers) lives in
bot/policy_text.py; this module only covers what goes to and comes back from the LM.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .passage_text import clean_passage, sentences

SYSTEM_PROMPT = (
    "You are the Fernhollow Bank assistant. Answer the customer's question using only the numbered "
    "passages. After each fact, cite its passage number in brackets, like [1]. Copy amounts, rates, dates "
    "and phone numbers exactly as written. If the passages do not answer the question, say: "
    "\"I don't have that information.\" Never say you have done anything on the customer's account."
)

DONT_KNOW = "I'm sorry, I don't have that information."
HANDOFF_OFFER = "Would you like me to connect you with a member of our team?"
DONT_KNOW_REPLY = f"{DONT_KNOW} {HANDOFF_OFFER}"
DECLINE_MARKERS = ("don't have that information", "do not have that information")

PASSAGES_HEADER = "Passages:"
QUESTION_HEADER = "Question:"
MAX_PASSAGE_CHARS = 900  # a chunk is ~730 characters; longer text is cut at a line end
DEFAULT_PASSAGES = 3
# Sentences of each passage the prompt shows, best first (bot/extractive.focus_passages); 0 = whole passages.
# The committed adapter was trained with this value: change it only together with a retraining.
FOCUS_SENTENCES = 3
# Decoding, not prompting, but shared the same way (the assistant and `python -m finetune eval --copy-bias`):
# the logit bonus for the token that continues, in the prompt, the last two tokens written
# (bot/llm/batching.py). Off by default: on finetune's held-out questions (gold facts, bias 0 -> 8) it lifts
# the base model 0.210 -> 0.309 (hallucinated figures 0.548 -> 0.380) but not the committed adapter
# (0.383 -> 0.370), which already copies; worth turning on for the base model or another local model.
COPY_BIAS = 0.0


class PassageLike(Protocol):
    title: str
    section: str
    text: str


Message = dict[str, str]


def says_dont_know(text: str) -> bool:
    """The text declines in the words the model is taught (curly apostrophes and case ignored)."""
    low = text.lower().replace("\u2019", "'")
    return any(m in low for m in DECLINE_MARKERS)


def passage_body(text: str, limit: int = MAX_PASSAGE_CHARS) -> str:
    """The cleaned text of one passage, cut at a line end if it exceeds `limit` characters."""
    body = clean_passage(text)
    if len(body) <= limit:
        return body
    cut = body.rfind("\n", 0, limit)
    return body[: cut if cut > limit // 2 else limit].rstrip()


def shown_sentences(text: str) -> list[str]:
    """The sentences of a passage the prompt shows (within `passage_body`'s limit), split from the raw text
    so a list stays joined to its lead-in line ("To get pre-approved, you will need: A; B; C.")."""
    body = passage_body(text).replace("\n", " ")
    return [s for s in sentences(text) if s[:40] in body or s.split(":")[0][:40] in body]


def format_passages(passages: Sequence[PassageLike]) -> str:
    blocks = [f"[{n}] {p.title} - {p.section}\n{passage_body(p.text)}" for n, p in enumerate(passages, 1)]
    return "\n\n".join(blocks)


def user_turn(question: str, passages: Sequence[PassageLike]) -> str:
    shown = format_passages(passages) if passages else "(no passages found)"
    return f"{PASSAGES_HEADER}\n{shown}\n\n{QUESTION_HEADER} {question.strip()}"


def build_messages(
    question: str, passages: Sequence[PassageLike], history: Sequence[Message] = ()
) -> list[Message]:
    """System prompt, then earlier turns as plain user/assistant messages (no passages), then the current
    question with its numbered passages. The pipeline trims `history` oldest-first to fit the context
    window; passages and the question are never cut."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        *({"role": m["role"], "content": m["content"]} for m in history),
        {"role": "user", "content": user_turn(question, passages)},
    ]
