"""`python -m bot.cli` and `make run`, with the real model and index: one-shot, JSON and piped input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    return {
        **os.environ,
        "KNOWLEDGE_INDEX_DIR": str(tmp_path_factory.mktemp("bot") / "index"),
        "HF_HUB_OFFLINE": "1",
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
    assert out["answerable"] and out["answer"].endswith("[1]")
    assert out["sources"][0]["url"].startswith("https://www.fernhollowbank.example/help/")
    first_sentence = out["answer"].removesuffix(" [1]").split(". ")[0]
    docs = " ".join(
        " ".join(p.read_text().replace("**", "").split()) for p in (ROOT / "knowledge/docs").glob("*.md")
    )
    assert first_sentence in docs  # extractive: the words come from the library


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


def test_readme_run_command_answers_piped_questions(env) -> None:
    proc = subprocess.run(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        input="what is the daily atm limit\n\n/quit\n",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "[1] Debit cards" in proc.stdout or "$1,000" in proc.stdout
