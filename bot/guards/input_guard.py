"""The first step of a turn: turn whatever arrived into safe text, or a reason to decline it.

Decodes bytes (invalid UTF-8 replaced and noted), normalises Unicode (NFKC), removes control and
zero-width characters, collapses whitespace, declines empty and over-long messages, masks personal data
(bot/guards/pii.py) and screens for prompt injection (bot/guards/injection.py). Only the masked text
leaves this step: the model, the logs and the database never see the original. It does not decide the
reply wording (bot/policy_text.py does).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .injection import InjectionResult, screen
from .pii import mask_pii

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


@dataclass(frozen=True)
class GuardedInput:
    text: str  # normalised and masked ("" when rejected as empty)
    rejected: str | None = None  # None | "empty" | "too_long" | "binary"
    received_chars: int = 0
    pii_counts: dict[str, int] = field(default_factory=dict)
    injection: InjectionResult = InjectionResult(False)
    notes: tuple[str, ...] = ()


def normalise(raw: object) -> tuple[str, list[str]]:
    notes: list[str] = []
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            text = bytes(raw).decode("utf-8", errors="replace")
            notes.append("invalid UTF-8 replaced")
    elif raw is None:
        text = ""
    else:
        text = str(raw)
    text = unicodedata.normalize("NFKC", text)
    cleaned = _CONTROL.sub(" ", text)
    if cleaned != text:
        notes.append("control characters removed")
    lines = [" ".join(line.split()) for line in cleaned.splitlines()]
    return "\n".join(line for line in lines if line).strip(), notes


def guard_input(raw: object, max_chars: int = 4000) -> GuardedInput:
    text, notes = normalise(raw)
    received = len(text)
    if not text:
        return GuardedInput("", "empty", 0, notes=tuple(notes))
    if "\ufffd" in text and text.count("\ufffd") > max(3, len(text) // 4):
        masked = mask_pii(text[:max_chars]).text
        return GuardedInput(masked, "binary", received, notes=(*notes, "mostly undecodable bytes"))
    if received > max_chars:
        m = mask_pii(text[:max_chars])
        return GuardedInput(m.text, "too_long", received, m.counts, notes=(*notes, f"{received} characters"))
    m = mask_pii(text)
    return GuardedInput(m.text, None, received, m.counts, screen(m.text), tuple(notes))
