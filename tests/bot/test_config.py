"""The assistant's typed settings (bot/config.py): environment overrides are parsed by type and bad values
get a message that says what to fix."""

from __future__ import annotations

import pytest

from bot.config import BotConfig, BotConfigError
from bot.prompts import COPY_BIAS, FOCUS_SENTENCES


def test_defaults_follow_the_shared_serving_constants() -> None:
    cfg = BotConfig()
    assert cfg.copy_bias == COPY_BIAS and cfg.focus_sentences == FOCUS_SENTENCES


def test_environment_overrides_are_parsed_by_type(monkeypatch) -> None:
    monkeypatch.setenv("BOT_COPY_BIAS", "0")
    monkeypatch.setenv("BOT_MAX_NEW_TOKENS", "64")
    cfg = BotConfig.from_env()
    assert cfg.copy_bias == 0.0 and cfg.max_new_tokens == 64


@pytest.mark.parametrize(
    ("field", "value", "msg"),
    [("copy_bias", -1.0, "copy_bias must be within 0..100"), ("max_new_tokens", 8, "max_new_tokens")],
)
def test_bad_values_say_what_to_fix(field, value, msg) -> None:
    with pytest.raises(BotConfigError, match=msg):
        BotConfig(**{field: value})
