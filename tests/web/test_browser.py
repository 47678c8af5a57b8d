"""Headless Chromium (Debian's `chromium`, driven by Playwright for Python through `executable_path`) on a
plain static "bank website" with hostile CSS and only the widget's script tag: the bubble opens a panel,
a product question gets a streamed answer with a source link, the page's CSS does not reach the widget,
the session survives a reload, and it all works with the keyboard only; then the Gradio chat (and the
staff view) at desktop and phone size. Screenshots go to $SCREENSHOT_DIR (default: a temp folder)."""

from __future__ import annotations

import http.server
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import SITE_KEY, STAFF_KEY, free_port, test_settings

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SITE = Path(__file__).resolve().parent / "site"
QUESTION = "What is the daily ATM withdrawal limit on a debit card?"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}

if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium binary at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip install playwright) is missing")


def two_lines_of_passage_one(request) -> str:
    """Quote two lines of passage [1], each cited: two verified sentences, streamed word by word."""
    user = request.messages[-1]["content"]
    if "[1] " not in user:
        return "I don't have that information."
    lines = [
        x.strip().rstrip(".") for x in user.split("[1] ", 1)[1].split("\n\n")[0].split("\n")[1:] if x.strip()
    ]
    return " ".join(f"{x} [1]." for x in lines[:2])


@pytest.fixture(scope="module")
def shots() -> Path:
    d = Path(os.environ.get("SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="fernhollow-shots-"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def site_and_api(serve) -> Iterator[tuple[str, object]]:
    """The static bank site (its own origin) and the assistant's server allowing that origin."""
    sock = free_port()
    site_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = test_settings(site_keys={SITE_KEY: [site_url]}, staff_key=STAFF_KEY)
    api = serve(settings, reply=two_lines_of_passage_one, delay_s=0.03, gradio=True)
    page = (
        (SITE / "index.html")
        .read_text(encoding="utf-8")
        .replace("__API__", api.url)
        .replace("__KEY__", SITE_KEY)
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page.encode() if self.path in {"/", "/index.html"} else b"not found"
            self.send_response(200 if self.path in {"/", "/index.html"} else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    sock.close()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", int(site_url.rsplit(":", 1)[1])), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield site_url, api
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def dislikes(api) -> int:
    with api.app.state.assistant.store.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM feedback WHERE rating = -1").scalar()


def ask_widget(page, question: str) -> None:
    page.locator("fernhollow-chat .bubble").click()
    box = page.locator("fernhollow-chat textarea")
    sync_api.expect(box).to_be_focused()
    box.fill(question)
    box.press("Enter")


def watch_stream(page) -> None:
    """Count the text updates of the newest bot message while it is still pending."""
    page.evaluate(
        """() => {
        const root = document.querySelector('fernhollow-chat').shadowRoot;
        window.__updates = 0;
        new MutationObserver(() => {
          const p = root.querySelector('.msg.bot.pending .text');
          if (p && p.textContent) window.__updates++;
        }).observe(root, {subtree: true, childList: true, characterData: true});
    }"""
    )


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_widget_on_a_hostile_bank_page(browser, site_and_api, shots, size: str) -> None:
    site_url, _api = site_and_api
    ctx = browser.new_context(**(DESKTOP if size == "desktop" else PHONE))
    page = ctx.new_page()
    page.goto(site_url)
    assert page.eval_on_selector("h1", "e => getComputedStyle(e).fontSize") == "40px"  # the page's CSS works
    watch_stream(page)
    ask_widget(page, QUESTION)
    link = page.locator("fernhollow-chat .msg.bot .sources a").first
    sync_api.expect(link).to_be_visible(timeout=30_000)
    assert link.get_attribute("href").startswith("https://www.fernhollowbank.example/help/")
    assert link.get_attribute("rel") == "noopener noreferrer"
    answer = page.locator("fernhollow-chat .msg.bot .text").last.inner_text()
    assert "[1]" in answer
    assert page.evaluate("window.__updates") >= 2  # streamed: text grew while the reply was pending
    style = page.locator("fernhollow-chat .msg.bot .text").last.evaluate(
        "e => [getComputedStyle(e).fontSize, getComputedStyle(e).color, getComputedStyle(e).fontFamily]"
    )
    assert style[0] == "15px" and style[1] != "rgb(255, 0, 0)" and "Comic" not in style[2]
    send_bg = page.locator("fernhollow-chat form button").evaluate("e => getComputedStyle(e).backgroundColor")
    assert send_bg == "rgb(11, 93, 75)"  # data-color, not the page's yellow !important
    assert page.evaluate("document.querySelectorAll('style').length") == 1  # nothing injected into the page
    page.screenshot(path=str(shots / f"widget-{size}.png"))
    ctx.close()


def test_widget_keeps_its_session_across_page_loads(browser, site_and_api) -> None:
    site_url, api = site_and_api
    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    page.goto(site_url)
    ask_widget(page, QUESTION)
    sync_api.expect(page.locator("fernhollow-chat .msg.bot .sources a").first).to_be_visible(timeout=30_000)
    session = page.evaluate(f"JSON.parse(localStorage.getItem('fernhollow-widget:{SITE_KEY}')).session_id")
    page.reload()
    sync_api.expect(page.locator("fernhollow-chat .panel")).to_be_visible()  # reopened as it was
    assert page.locator("fernhollow-chat .msg.user").count() == 1
    box = page.locator("fernhollow-chat textarea")
    box.fill("And the daily purchase limit?")
    box.press("Enter")
    sync_api.expect(page.locator("fernhollow-chat .msg.bot .acts")).to_have_count(2, timeout=30_000)
    assert [t.user_text for t in api.app.state.assistant.store.turns(session)][-2:] == [
        QUESTION,
        "And the daily purchase limit?",
    ]
    thumbs = page.locator("fernhollow-chat .msg.bot .acts button[aria-label='Helpful']").last
    thumbs.click()
    sync_api.expect(thumbs).to_have_attribute("aria-pressed", "true")
    ctx.close()


def test_widget_with_the_keyboard_only(browser, site_and_api) -> None:
    site_url, _ = site_and_api
    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    page.goto(site_url)
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.tagName") == "FERNHOLLOW-CHAT":
            break
    page.keyboard.press("Enter")  # opens the panel, focus moves to the message box
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("fernhollow-chat .msg.bot .sources a").first).to_be_visible(timeout=30_000)
    page.keyboard.press("Escape")
    sync_api.expect(page.locator("fernhollow-chat .panel")).to_be_hidden()
    assert page.locator("fernhollow-chat .bubble").get_attribute("aria-expanded") == "false"
    ctx.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_gradio_chat_in_the_browser(browser, site_and_api, shots, size: str) -> None:
    _, api = site_and_api
    ctx = browser.new_context(**(DESKTOP if size == "desktop" else PHONE))
    page = ctx.new_page()
    page.goto(api.url + "/")
    box = page.locator("#fh-input textarea")
    sync_api.expect(box).to_be_visible(timeout=30_000)
    box.fill(QUESTION)
    box.press("Enter")
    chat = page.locator("#fh-chat")
    sync_api.expect(chat.get_by_text("Sources (3)")).to_be_visible(timeout=30_000)
    assert "[1]" in chat.inner_text()
    sync_api.expect(page.locator(".generating")).to_have_count(0, timeout=30_000)
    page.wait_for_timeout(1500)  # the run's closing update re-renders the chat (and folds the sources)
    chat.get_by_text("Sources (3)").click()  # expand the sources
    link = chat.locator("a[href^='https://www.fernhollowbank.example/help/']").first
    sync_api.expect(link).to_be_visible()
    assert "Sentiment" not in page.content()  # no staff badges for customers
    page.wait_for_timeout(300)
    sync_api.expect(link).to_be_visible()
    if size == "desktop":  # thumbs down in the browser is stored with the turn
        store = api.app.state.assistant.store

        def dislikes() -> int:
            with store.engine.connect() as db:
                return db.exec_driver_sql("SELECT count(*) FROM feedback WHERE rating = -1").scalar()

        before = dislikes()
        page.locator("#fh-chat button[aria-label='Dislike']").first.click()
        # The like event goes through Gradio's queue to the database: wait for it (a fixed 1 s was too short
        # on a loaded 2-core machine), up to 20 s.
        deadline = time.monotonic() + 20
        while dislikes() == before and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        assert dislikes() == before + 1
    chat.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"gradio-{size}.png"))  # full_page would re-layout and fold the sources
    ctx.close()


def test_gradio_staff_view_shows_badges(browser, site_and_api, shots) -> None:
    _, api = site_and_api
    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    page.goto(api.url + "/staff/")
    page.get_by_label("username").fill("staff")
    page.get_by_label("password").fill(STAFF_KEY)
    page.get_by_role("button", name="Login").click()
    box = page.locator("#fh-input textarea")
    sync_api.expect(box).to_be_visible(timeout=30_000)
    box.fill("Someone stole my card and used it, I'm furious")
    box.press("Enter")
    sync_api.expect(page.get_by_text("Sentiment:")).to_be_visible(timeout=30_000)
    sync_api.expect(page.get_by_text("Risk:")).to_be_visible()
    page.screenshot(path=str(shots / "gradio-staff-desktop.png"), full_page=True)
    ctx.close()
