"""`python -m bot.cli`: chat with the assistant in a terminal (interactive, piped, or one-shot `--ask`).

For now the assistant answers with cited extracts of the bank's documents (see bot/extractive.py); the
fine-tuned LM, the classifiers and the full turn pipeline plug in behind the same loop in later work.
The index is built on first use if it is missing.
"""

from __future__ import annotations

import argparse
import json
import sys

from knowledge import KnowledgeBase, KnowledgeConfig

from .extractive import answer

BANNER = "Fernhollow Bank assistant. Ask about accounts, cards, loans, transfers... (/quit to leave)"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot.cli", description="Chat with the Fernhollow Bank assistant."
    )
    p.add_argument("--ask", help="ask one question, print the answer and exit")
    p.add_argument("--json", action="store_true", help="print answers as JSON lines")
    return p


def render(question: str, kb: KnowledgeBase, as_json: bool) -> str:
    ans = answer(question, kb.retrieve(question))
    if as_json:
        return json.dumps(
            {
                "question": question,
                "answer": ans.text,
                "answerable": ans.answerable,
                "sources": [
                    {"n": n, "title": p.title, "section": p.section, "url": p.url, "score": p.score}
                    for n, p in enumerate(ans.sources, 1)
                ],
            }
        )
    lines = [ans.text]
    lines += [f"  [{n}] {p.citation()}" for n, p in enumerate(ans.sources, 1)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    kb = KnowledgeBase.open(KnowledgeConfig.from_env(), build_if_missing=True, progress=True)
    if args.ask is not None:
        if not args.ask.strip():
            print("error: --ask needs a question", file=sys.stderr)
            return 2
        print(render(args.ask, kb, args.json))
        return 0
    interactive = sys.stdin.isatty()
    if interactive:
        print(BANNER)
    while True:
        try:
            line = input("you> " if interactive else "")
        except EOFError:
            break
        text = line.strip()
        if not text:
            continue
        if text in {"/quit", "/exit"}:
            break
        print(("bank> " if interactive else "") + render(text, kb, args.json), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
