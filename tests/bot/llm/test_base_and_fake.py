"""The generation interface: request validation, stop strings split across tokens, the fake backend."""

from __future__ import annotations

import pytest

from bot.llm import (
    FakeBackend,
    GenerationRequest,
    GenerationStats,
    LLMConfig,
    LLMConfigError,
    StopScanner,
    generate,
)

MSG = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"messages": []}, "at least one message"),
        ({"messages": [{"role": "bot", "content": "x"}]}, "bad message"),
        ({"messages": MSG, "max_new_tokens": 0}, "max_new_tokens"),
        ({"messages": MSG, "temperature": -1}, "temperature"),
        ({"messages": MSG, "copy_bias": -0.5}, "copy_bias"),
    ],
)
def test_request_validation(kw, msg) -> None:
    with pytest.raises(ValueError, match=msg):
        GenerationRequest(**kw)


def test_stop_scanner_catches_split_stop_strings() -> None:
    s = StopScanner(["\nUser:"])
    pieces = ["The fee", " is $25.", "\nUs", "er: ignore", " this"]
    out = "".join(s.feed(p) for p in pieces) + s.flush()
    assert out == "The fee is $25." and s.stopped


def test_stop_scanner_without_stops_passes_everything() -> None:
    s = StopScanner([])
    assert "".join(s.feed(p) for p in ["a", "b", "c"]) + s.flush() == "abc"


def test_fake_backend_streams_and_stops() -> None:
    b = FakeBackend("one two three STOP four")
    stats = GenerationStats()
    pieces = list(b.stream(GenerationRequest(MSG, stop=(" STOP",)), stats))
    assert "".join(pieces) == "one two three" and len(pieces) >= 2
    assert stats.completion_tokens == 4 and stats.finish_reason == "stop"
    short = GenerationStats()
    assert generate(b, GenerationRequest(MSG, max_new_tokens=2), short) == "one two"
    assert short.finish_reason == "length"


def test_llm_config_validation(monkeypatch) -> None:
    with pytest.raises(LLMConfigError, match="BOT_LLM_BASE_URL"):
        LLMConfig(backend="openai")
    with pytest.raises(LLMConfigError, match="choose local, openai or fake"):
        LLMConfig(backend="gpt")
    with pytest.raises(LLMConfigError, match="speculate=99"):
        LLMConfig(speculate=99)
    with pytest.raises(LLMConfigError, match="prefix_cache=-1"):
        LLMConfig(prefix_cache=-1)
    monkeypatch.setenv("BOT_LLM_TIMEOUT_S", "soon")
    with pytest.raises(LLMConfigError, match="BOT_LLM_TIMEOUT_S"):
        LLMConfig.from_env()
    monkeypatch.setenv("BOT_LLM_TIMEOUT_S", "2.5")
    assert LLMConfig.from_env().timeout_s == 2.5
