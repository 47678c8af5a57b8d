"""The Gradio chat through `gradio_client` against the mounted app on a live server: a streamed, cited
turn with sources, retry, handoff and clear on the customer page (no badges there), the staff view behind
its key with the badges, and the handlers' feedback path (thumbs stored with the turn)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gradio_client import Client

from bot.web.gradio_ui import ChatHandlers, badges_html, sources_markdown

from .conftest import STAFF_KEY

QUESTION = "what is the daily ATM withdrawal limit on a debit card?"


@pytest.fixture(scope="module")
def ui(serve):
    return serve(gradio=True)


@pytest.fixture(scope="module")
def customer(ui) -> Iterator[Client]:
    client = Client(ui.url + "/", verbose=False, download_files=False, analytics_enabled=False)
    yield client
    client.close()


def test_customer_chat_streams_a_cited_answer_with_sources(customer) -> None:
    job = customer.submit(QUESTION, api_name="/chat")
    outputs = list(job)  # every streamed update
    assert len(job.result()) == 2  # conversation and textbox: no badges on the customer page
    history, box = job.result()
    assert len(outputs) >= 2 and box == ""
    texts = [m for m in history if m["role"] == "assistant"]
    reply = texts[0]["content"]
    reply = reply if isinstance(reply, str) else reply[0]["text"]
    assert "[1]" in reply
    sources = [m for m in history if (m.get("metadata") or {}).get("title", "").startswith("Sources")]
    content = sources[0]["content"]
    assert "https://www.fernhollowbank.example/help/" in str(content)


def test_customer_api_has_no_badges_and_staff_view_needs_its_key(customer, ui) -> None:
    info = customer.view_api(print_info=False, return_format="dict")
    endpoints = info["named_endpoints"]
    assert {"/chat", "/retry", "/clear", "/handoff"} <= set(endpoints)
    returns = " ".join(r.get("label", "") for r in endpoints["/chat"]["returns"])
    assert "Signals" not in returns
    r = httpx.get(ui.url + "/staff/config", follow_redirects=False)
    assert r.status_code in {401, 403} or "login" in r.text.lower()
    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises a plain ValueError/HTTP error
        Client(ui.url + "/staff/", auth=("staff", "wrong"), verbose=False, analytics_enabled=False)


def test_staff_view_shows_badges(ui) -> None:
    staff = Client(
        ui.url + "/staff/",
        auth=("anyone", STAFF_KEY),
        verbose=False,
        download_files=False,
        analytics_enabled=False,
    )
    result = staff.predict("I think someone stole my card and used it", [], api_name="/chat")
    badges = result[-1]
    assert "Sentiment:" in badges and "Risk:" in badges
    assert "/handoffs" in staff.view_api(print_info=False, return_format="dict")["named_endpoints"]
    staff.close()


def test_retry_handoff_and_clear(customer, ui) -> None:
    history, _ = customer.predict(QUESTION, [], api_name="/chat")
    history, _ = customer.predict(history, api_name="/retry")
    assert sum(1 for m in history if m["role"] == "user") == 1  # the question was asked again, not added
    assert "[1]" in str(history)
    history = customer.predict(history, api_name="/handoff")
    assert "Talk to a person" in str(history) and ("#" in str(history))
    cleared = customer.predict(api_name="/clear")
    assert cleared[0] == []
    tickets = ui.app.state.assistant.store.handoffs()
    assert tickets and "Talk to a person" in tickets[-1].reason


class _Like:
    def __init__(self, index: int, liked: bool) -> None:
        self.index, self.liked = index, liked


def test_thumbs_are_stored_with_the_turn(ui) -> None:
    assistant = ui.app.state.assistant
    h = ChatHandlers(assistant, None, staff=False)
    *_, last = h.respond(QUESTION, [], "thumbs-session", {}, None)
    history, _, _session, turns = last
    reply_index = next(i for i, m in enumerate(history) if m["role"] == "assistant")
    h.feedback(turns, _Like(reply_index, False))
    from bot.storage.models import Feedback

    with assistant.store.Session() as db:
        rows = db.query(Feedback).filter(Feedback.turn_id == turns[reply_index]).all()
    assert [r.rating for r in rows] == [-1]


def test_renderers() -> None:
    md = sources_markdown(
        [{"n": 1, "title": "Debit cards", "section": "Limits", "url": "https://x.example/a"}]
    )
    assert md == "1. [Debit cards — Limits](https://x.example/a)"
    assert "javascript" not in sources_markdown(
        [{"n": 1, "title": "t", "section": "", "url": "javascript:alert(1)"}]
    )
    html = badges_html(
        {
            "sentiment": {"label": "negative", "score": 0.9},
            "risk": {"category": "fraud", "level": "high", "probability": 0.8},
        },
        None,
    )
    assert "fh-neg" in html and "fraud · high" in html
