"""Smoke test of the real thing and of the README's run command: `make run ARGS="--port P"` as a subprocess with the real index, classifiers
and fine-tuned LM; /readyz turns 200 once the model is loaded, the Gradio page and the widget are served,
and the official `openai` client gets a cited answer. Slow (loads the models)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from bot.guards.grounding import citations

from .conftest import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def real_app(tmp_path_factory) -> Iterator[str]:
    sock = free_port()
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "BOT_DB_URL": f"sqlite:///{tmp_path_factory.mktemp('realdb') / 'web.db'}",
        "BOT_MAX_NEW_TOKENS": "64",
        "BOT_WEB_API_KEYS": "sk-real",
    }
    env.pop("BOT_LLM_BACKEND", None)
    log = tmp_path_factory.mktemp("reallog") / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["make", "run", f"ARGS=--port {port} --log-level warning"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make and app.py in one process group, stopped together
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 420
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the app did not become ready:\n" + log.read_text()[-3000:]
            try:
                if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_real_app_serves_everything_and_answers_with_a_citation(real_app) -> None:
    ready = httpx.get(real_app + "/readyz").json()
    assert ready["ready"] and ready["checks"]["model"]["ok"]
    assert "gradio" in httpx.get(real_app + "/").text.lower()
    assert "attachShadow" in httpx.get(real_app + "/widget.js").text
    client = openai.OpenAI(base_url=real_app + "/v1", api_key="sk-real", max_retries=0, timeout=300)
    resp = client.chat.completions.create(
        model="fernhollow-assistant", messages=[{"role": "user", "content": "How do I freeze my debit card?"}]
    )
    extra = resp.model_extra["fernhollow"]
    assert citations(resp.choices[0].message.content) and extra["citations"]
    assert extra["route"] in {"answer", "safety"} and extra["turn_id"]
