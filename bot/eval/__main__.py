"""`python -m bot.eval [--json] [--limit N] [--workers W] [--no-baseline]`: see bot/eval/run.py."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bot.eval", description="Evaluate the assistant end to end.")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--limit", type=int, default=0, help="N items spread evenly over each set (0 = all)")
    p.add_argument("--workers", type=int, default=8, help="turns run at once")
    p.add_argument("--concurrency", type=int, default=8, help="sessions at once for the latency run")
    p.add_argument("--no-baseline", action="store_true", help="skip the plain LangChain chain")
    args = p.parse_args(argv)
    from ..config import BotConfig
    from ..factory import build_assistant
    from .run import evaluate, summarise

    with tempfile.TemporaryDirectory() as tmp:  # a fresh database: the eval never touches real transcripts
        assistant = build_assistant(
            BotConfig.from_env(db_url=f"sqlite:///{tmp}/eval.db"), progress=not args.json
        )
        report = evaluate(
            assistant,
            limit=args.limit,
            workers=args.workers,
            concurrency=args.concurrency,
            baseline=not args.no_baseline,
        )
    print(json.dumps(report, indent=2) if args.json else summarise(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
