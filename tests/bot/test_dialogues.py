"""Conversations as data: every scripted dialogue in tests/dialogues/*.yaml is played turn by turn through
the real assistant (MiniLM index, trained classifiers, the fine-tuned LM, SQLite) and each reply is checked
against its `expect` block. Also runs the data checkers of the dialogue and evaluation sets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.guards.grounding import citations

ROOT = Path(__file__).resolve().parents[2]
DIALOGUES = sorted((ROOT / "tests" / "dialogues").glob("*.yaml"))
CASES = [(f.stem, d) for f in DIALOGUES for d in yaml.safe_load(f.read_text(encoding="utf-8"))["dialogues"]]
# A dialogue marked `known_failure: "<reason>"` documents a gap of the current system; it runs as xfail.
PARAMS = [
    pytest.param(g, d, id=d["id"], marks=[pytest.mark.xfail(reason=d["known_failure"], strict=False)])
    if d.get("known_failure")
    else pytest.param(g, d, id=d["id"])
    for g, d in CASES
]
REFUSAL_WORDS = ("can't", "cannot", "can not", "unable", "don't have that information", "not able")


def test_there_are_enough_dialogues_in_every_group() -> None:
    groups = {g for g, _ in CASES}
    assert len(CASES) >= 40 and len(groups) == 10
    passing = [d for _, d in CASES if not d.get("known_failure")]
    assert len(passing) >= 40, "at least 40 dialogues must pass outright"


@pytest.mark.parametrize("script", ["tests/dialogues/check_dialogues.py", "bot/eval/data/check_questions.py"])
def test_data_checkers_pass(script: str) -> None:
    proc = subprocess.run([sys.executable, script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    from bot.config import BotConfig
    from bot.factory import build_assistant

    db = tmp_path_factory.mktemp("dialogues") / "d.db"
    return build_assistant(BotConfig(db_url=f"sqlite:///{db}"))


def check_turn(expect: dict, events: list[dict]) -> list[str]:
    final = events[-1]
    text, low = final["text"], final["text"].lower()
    tools = {e["name"]: e["output"] for e in events if e["type"] == "tool"}
    sources = next((e["sources"] for e in events if e["type"] == "citations"), [])
    handoff = next((e for e in events if e["type"] == "handoff"), {})
    problems = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    if "risk" in expect:
        need(
            tools.get("risk", {}).get("category") == expect["risk"],
            f"risk {tools.get('risk', {}).get('category')} != {expect['risk']}",
        )
    if "risk_level" in expect:
        need(
            tools.get("risk", {}).get("level") == expect["risk_level"],
            f"risk level != {expect['risk_level']}",
        )
    if "sentiment" in expect:
        need(
            tools.get("sentiment", {}).get("label") == expect["sentiment"],
            f"sentiment != {expect['sentiment']}",
        )
    if "handoff_offered" in expect:
        offered = bool(handoff.get("offered") or handoff.get("ticket"))
        need(
            offered == expect["handoff_offered"], f"handoff offered {offered} != {expect['handoff_offered']}"
        )
    if expect.get("refusal"):
        need(final["route"] in {"refused", "dont_know"} or any(w in low for w in REFUSAL_WORDS), "no refusal")
    if expect.get("dont_know"):
        need(
            final["route"] == "dont_know" or "don't have that information" in low,
            "did not say it doesn't know",
        )
    if expect.get("cited"):
        need(any(1 <= n <= len(sources) for n in citations(text)), "no citation")
    if "cites_doc" in expect:
        need(
            any(s["doc_id"] == expect["cites_doc"] for s in sources), f"no citation of {expect['cites_doc']}"
        )
    if expect.get("must_contain_any"):
        need(
            any(s.lower() in low for s in expect["must_contain_any"]), f"none of {expect['must_contain_any']}"
        )
    for s in expect.get("must_contain") or []:
        need(s.lower() in low, f"missing {s!r}")
    for s in expect.get("must_not_contain") or []:
        need(s.lower() not in low, f"contains {s!r}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize(("group", "dialogue"), PARAMS)
def test_dialogue(assistant, group: str, dialogue: dict) -> None:
    session = f"dlg-{dialogue['id']}"
    failures = []
    for i, turn in enumerate(dialogue["turns"], 1):
        events = list(assistant.respond(session, turn["user"]))
        for p in check_turn(turn.get("expect") or {}, events):
            failures.append(f"turn {i} ({turn['user'][:60]!r}): {p}\n    reply: {events[-1]['text'][:400]}")
    assert not failures, f"{group}/{dialogue['id']}:\n" + "\n".join(failures)
