"""`python -m bot.eval [--json] [--limit N] [--workers W] [--no-baseline] [--sets a,b] [--replies FILE]`: see
bot/eval/run.py."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .run import SETS, check_sets


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bot.eval", description="Evaluate the assistant end to end.")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--limit", type=int, default=0, help="N items spread evenly over each set (0 = all)")
    p.add_argument("--workers", type=int, default=8, help="turns run at once")
    p.add_argument("--concurrency", type=int, default=8, help="sessions at once for the latency run")
    p.add_argument("--no-baseline", action="store_true", help="skip the plain LangChain chain")
    p.add_argument("--sets", default=",".join(SETS), help="comma-separated sets to run (default: all)")
    p.add_argument(
        "--replies", type=Path, default=None, help="write every assistant reply to this JSONL file"
    )
    args = p.parse_args(argv)
    sets = tuple(x.strip() for x in args.sets.split(",") if x.strip())
    try:
        check_sets(sets)  # before the models load
    except ValueError as exc:
        p.error(f"--sets: {exc}")
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
            sets=sets,
            replies=args.replies,
        )
    print(json.dumps(report, indent=2) if args.json else summarise(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
