"""Typed settings of the assistant's turn (size limits, history, passages, generation length, database URL),
each with a description; `BOT_<FIELD>` environment variables override the defaults and validation says
what to fix. The LM backend has its own settings (bot/llm/config.py, `BOT_LLM_*`), the knowledge base too
(`KNOWLEDGE_*`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge import env_values

from .llm.base import MAX_COPY_BIAS
from .prompts import COPY_BIAS, FOCUS_SENTENCES


def _f(default: Any, description: str) -> Any:
    return field(default=default, metadata={"description": description})


class BotConfigError(ValueError):
    pass


@dataclass(frozen=True)
class BotConfig:
    db_url: str = _f(
        "", "SQLAlchemy URL of the conversation store; empty = SQLite file in ~/.local/share/fernhollow."
    )
    max_input_chars: int = _f(
        4000, "Longer customer messages are declined politely (and recorded, truncated)."
    )
    history_turns: int = _f(4, "Earlier exchanges kept in the prompt (trimmed oldest-first to fit).")
    passages: int = _f(3, "Passages retrieved and shown to the model per turn.")
    focus_sentences: int = _f(
        FOCUS_SENTENCES,
        "Best sentences of each passage the model is shown, best first; 0 = whole passages (for a larger "
        "model behind BOT_LLM_URL). The committed adapter was trained with the default.",
    )
    max_new_tokens: int = _f(160, "Most tokens the model writes per reply.")
    copy_bias: float = _f(
        COPY_BIAS,
        "Logit bonus for continuing a passage's wording once the model has begun to quote it (local "
        "backend; 0 = plain greedy decoding). See bot/prompts.py COPY_BIAS for how it was chosen.",
    )
    sentence_ranker: str = _f(
        "",
        "Learned order of passage sentences for completing replies and the fallback extract: empty = the "
        "packaged bot/models/sentence_ranker.json (python -m finetune sentence-ranker), a path to another, "
        "or 'none' for the hand-weighted order.",
    )
    channel: str = _f("cli", "Recorded with each new session: cli, web, widget or api.")
    record: bool = _f(True, "Write turns to the database.")

    def __post_init__(self) -> None:
        if not 50 <= self.max_input_chars <= 100_000:
            raise BotConfigError("max_input_chars must be within 50..100000")
        if not 0 <= self.history_turns <= 50:
            raise BotConfigError("history_turns must be within 0..50")
        if not 1 <= self.passages <= 10:
            raise BotConfigError("passages must be within 1..10")
        if not 0 <= self.focus_sentences <= 50:
            raise BotConfigError("focus_sentences must be within 0..50 (0 = whole passages)")
        if not 16 <= self.max_new_tokens <= 2048:
            raise BotConfigError("max_new_tokens must be within 16..2048")
        if not 0.0 <= self.copy_bias <= MAX_COPY_BIAS:
            raise BotConfigError(f"copy_bias must be within 0..{MAX_COPY_BIAS:g} (0 = off)")
        ranker = self.sentence_ranker.strip()
        if ranker and ranker.lower() != "none" and not Path(ranker).is_file():
            raise BotConfigError(
                f"sentence_ranker {ranker!r} is not a file: give a ranker fitted with `python -m finetune "
                "sentence-ranker --out PATH`, leave it empty for the packaged one, or 'none'"
            )

    @classmethod
    def from_env(cls, **overrides: Any) -> BotConfig:
        """Defaults, then `BOT_<FIELD>` environment variables, then explicit overrides."""
        values = env_values(cls, "BOT_", BotConfigError)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
