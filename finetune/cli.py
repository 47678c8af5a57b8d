"""`python -m finetune <command>`: training and evaluation entry points.

Implemented: `classifiers` (train the risk, sentiment and intent heads) and `eval-classifiers`.
The LM commands (`data`, `sft`, `eval`) belong to the fine-tuning work that has not landed yet; they exit
with status 2 and say so rather than pretend.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m finetune", description="Train and evaluate the assistant's models."
    )
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("classifiers", help="train the risk, sentiment and Banking77 intent heads")
    c.add_argument(
        "--config", type=Path, default=None, help="recipe YAML (default: recipes/classifiers.yaml)"
    )
    c.add_argument("--no-cache", action="store_true", help="re-embed instead of using cached embeddings")
    e = sub.add_parser("eval-classifiers", help="evaluate the committed heads on held-out data")
    e.add_argument("--config", type=Path, default=None)
    e.add_argument("--json", action="store_true")
    for name in ("data", "sft", "eval"):
        sub.add_parser(name, help="LM fine-tuning (not implemented yet)")
    return p


def _embedder():
    from knowledge import KnowledgeConfig, SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(KnowledgeConfig.from_env().resolved_embedding_model())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in {"data", "sft", "eval"}:
        print(f"finetune {args.command}: LM fine-tuning is not implemented yet.", file=sys.stderr)
        return 2
    from .classifiers.train import RECIPE, ClassifierRecipe

    recipe = ClassifierRecipe.load(args.config or RECIPE)
    if args.command == "classifiers":
        from .classifiers.train import train_all

        report = train_all(_embedder(), recipe)
        print(json.dumps(report, indent=2))
        return 0
    from bot.classifiers import TurnClassifiers

    from .classifiers.evaluate import evaluate_all

    report = evaluate_all(TurnClassifiers.load(_embedder()), recipe, progress=not args.json)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


def format_report(r: dict) -> str:
    lines = []
    risk = r["risk"]
    lines.append(
        f"risk (held-out written set): accuracy {risk['accuracy']}, macro-F1 {risk['macro_f1']}, "
        f"ECE {risk['ece']}; any-high-risk recall {risk['high_risk_any']['recall']} "
        f"precision {risk['high_risk_any']['precision']}"
    )
    for lab, m in risk["per_class"].items():
        lines.append(
            f"  {lab:<17} P {m['precision']:.3f} R {m['recall']:.3f} F1 {m['f1']:.3f} (n={m['support']})"
        )
    if "banking77_intent" in r:
        b = r["banking77_intent"]
        lines.append(
            f"banking77 intents: accuracy {b['accuracy']} on {b['held_out_rows']} held-out rows, ECE {b['ece']}"
        )
    s, v = r["sentiment"], r["sentiment_vader_baseline"]
    lines.append(
        f"sentiment: macro-F1 {s['macro_f1']} (VADER alone {v['macro_f1']}), accuracy {s['accuracy']}, "
        f"ECE {s['ece']}"
    )
    for lab, m in s["per_class"].items():
        lines.append(
            f"  {lab:<9} P {m['precision']:.3f} R {m['recall']:.3f} F1 {m['f1']:.3f} (n={m['support']})"
        )
    lat = r["latency_ms"]
    lines.append(
        f"latency (both classifiers): given the embedding p50 {lat['given_embedding_p50']} ms, "
        f"p95 {lat['given_embedding_p95']} ms; with the embedding p50 {lat['with_embedding_p50']} ms, "
        f"p95 {lat['with_embedding_p95']} ms"
    )
    return "\n".join(lines)
