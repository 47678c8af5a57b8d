"""`python -m bot.cli`: chat with the assistant in a terminal.

Interactive (streams the reply as it is verified; commands /sources, /handoff, /reset, /quit), piped
(one message per input line, replies on stdout), one-shot `--ask "..."`, `--json` for scripts (one JSON
object per turn: reply, citations, tool results, handoff, timings), `--session ID` to continue a stored
conversation. The index is built and the model converted on first use. Rendering only: every decision is
the assistant's (bot/assistant.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid

BANNER = (
    "Fernhollow Bank assistant. Ask about accounts, cards, loans, transfers...\n"
    "Commands: /sources  /handoff  /reset  /quit"
)
HELP = "Commands: /sources (where the last answer came from), /handoff (talk to a person), /reset, /quit"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot.cli", description="Chat with the Fernhollow Bank assistant."
    )
    p.add_argument("--ask", help="ask one question, print the answer and exit")
    p.add_argument("--json", action="store_true", help="print each turn as one JSON object")
    p.add_argument("--session", help="session id to continue (default: a new one)")
    p.add_argument("--no-record", action="store_true", help="do not write turns to the database")
    p.add_argument(
        "--db", help="SQLAlchemy URL of the conversation store (default: SQLite in ~/.local/share)"
    )
    return p


def run_turn(assistant, session: str, text: str, *, as_json: bool, stream: bool, out=sys.stdout) -> dict:
    result: dict = {"tools": {}, "sources": [], "handoff": None}
    printed = False
    for ev in assistant.respond(session, text):
        kind = ev["type"]
        if kind == "token" and stream and not as_json:
            out.write(("" if not printed else " ") + ev["text"])
            out.flush()
            printed = True
        elif kind == "tool":
            result["tools"][ev["name"]] = ev["output"]
        elif kind == "citations":
            result["sources"] = ev["sources"]
        elif kind == "handoff":
            result["handoff"] = {k: ev[k] for k in ("offered", "ticket", "reason")}
        elif kind == "final":
            result.update(
                {k: ev[k] for k in ("text", "turn_id", "session_id", "route", "status", "timings_ms")}
            )
    if as_json:
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        if not stream:
            out.write(result["text"])
        out.write("\n")
        for s in result["sources"]:
            out.write(f"  [{s['n']}] {s['title']} > {s['section']} ({s['url']})\n")
    out.flush()
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from .config import BotConfig
    from .factory import build_assistant

    if args.ask is not None and not args.ask.strip():
        print("error: --ask needs a question", file=sys.stderr)
        return 2
    cfg = BotConfig.from_env(record=False if args.no_record else None, db_url=args.db)
    assistant = build_assistant(cfg, progress=True)
    session = args.session or uuid.uuid4().hex
    if args.ask is not None:
        run_turn(assistant, session, args.ask, as_json=args.json, stream=False)
        return 0
    interactive = sys.stdin.isatty()
    if interactive and not args.json:
        print(BANNER)
        print(f"(session {session})")
    last: dict = {}
    while True:
        try:
            line = input("you> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            break
        text = line.strip()
        if not text:
            continue
        if text in {"/quit", "/exit"}:
            break
        if text == "/help":
            print(HELP)
            continue
        if text == "/reset":
            assistant.reset(session)
            session = uuid.uuid4().hex
            print(f"(new session {session})")
            continue
        if text == "/sources":
            for s in last.get("sources", []) or []:
                print(f"  [{s['n']}] {s['title']} > {s['section']} ({s['url']}) score {s['score']:.2f}")
            if not last.get("sources"):
                print("  (no sources for the last reply)")
            continue
        if text == "/handoff":
            h = assistant.handoff(session)
            print(json.dumps(h) if args.json else h["text"])
            continue
        if interactive and not args.json:
            sys.stdout.write("bank> ")
        last = run_turn(assistant, session, text, as_json=args.json, stream=interactive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
