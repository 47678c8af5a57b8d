"""The official `openai` Python package against the running server: non-streaming and streaming chat
completions, the `fernhollow` extra field, session memory from `user` / `X-Session-Id` (only the last user
message is the new turn), model listing, and the client's own exceptions for 404/401/403."""

from __future__ import annotations

import openai
import pytest

from .conftest import API_KEY

MODEL = "fernhollow-assistant"
QUESTION = "what is the daily ATM withdrawal limit on a debit card?"


@pytest.fixture
def oai(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0, timeout=30)


def test_non_streaming_completion_with_extra_field(oai, server) -> None:
    resp = oai.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": QUESTION}], user="oa-1"
    )
    assert resp.object == "chat.completion" and resp.model == MODEL
    text = resp.choices[0].message.content
    assert resp.choices[0].finish_reason == "stop" and "[1]" in text
    extra = resp.model_extra["fernhollow"]
    assert extra["session_id"] == "oa-1" and extra["turn_id"] >= 1 and extra["route"] == "answer"
    assert extra["citations"][0]["url"].startswith("https://")
    assert set(extra["tools"]) == {"sentiment", "risk", "banking_intent"}
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens


def test_streaming_completion(oai) -> None:
    stream = oai.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
        user="oa-stream",
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "[1]" in content
    finishing = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"]
    assert len(finishing) == 1 and finishing[0].model_extra["fernhollow"]["session_id"] == "oa-stream"
    assert finishing[0].model_extra["fernhollow"]["citations"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_only_the_last_user_message_is_a_turn_and_server_memory_is_used(oai, server) -> None:
    assistant = server.app.state.assistant
    history = [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "an earlier question the server never saw"},
        {"role": "assistant", "content": "an answer the server never gave"},
        {"role": "user", "content": QUESTION},
    ]
    oai.chat.completions.create(model=MODEL, messages=history, extra_headers={"X-Session-Id": "oa-mem"})
    turns = assistant.store.turns("oa-mem")
    assert [t.user_text for t in turns] == [QUESTION]
    oai.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "and the purchase limit?"}], user="oa-mem"
    )
    assert [h[0] for h in assistant.memory["oa-mem"]] == [QUESTION, "and the purchase limit?"]


def test_models_and_errors_raise_the_clients_exceptions(oai, server) -> None:
    assert [m.id for m in oai.models.list()] == [MODEL]
    with pytest.raises(openai.NotFoundError) as err:
        oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert err.value.body["code"] == "model_not_found"
    wrong = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        wrong.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model=MODEL, messages=[{"role": "assistant", "content": "no user here"}])
