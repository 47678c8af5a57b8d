"""`python -m bot.cli` and `make run` with the real model, index, classifiers and SQLite: one-shot, JSON,
piped input and the commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.guards.grounding import citations

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    return {
        **os.environ,
        "KNOWLEDGE_INDEX_DIR": str(tmp_path_factory.mktemp("bot") / "index"),
        "HF_HUB_OFFLINE": "1",
        "BOT_DB_URL": f"sqlite:///{tmp_path_factory.mktemp('db') / 'cli.db'}",
    }


def test_ask_json_cites_the_documents(env) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--ask", "how do I freeze my card", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert citations(out["text"]) and out["route"] in {"answer", "safety"}
    assert out["sources"][0]["url"].startswith("https://www.fernhollowbank.example/help/")
    assert set(out["tools"]) == {"sentiment", "risk", "banking_intent"}
    assert isinstance(out["turn_id"], int) and out["timings_ms"]["total"] > 0


def test_unanswerable_question_says_so(env) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--ask", "what's a good banana bread recipe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (
        proc.returncode == 0
        and "don't have that information" in proc.stdout
        and "1-800-555-0100" in proc.stdout
    )


def test_make_chat_answers_piped_questions(env) -> None:
    proc = subprocess.run(
        ["make", "chat"],
        cwd=ROOT,
        env=env,
        input="what is the daily atm limit\n\n/sources\n/handoff\n/quit\n",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "  [1] " in proc.stdout and "fernhollowbank.example/help/" in proc.stdout
    assert "passed your conversation to our team (reference #" in proc.stdout  # /handoff
