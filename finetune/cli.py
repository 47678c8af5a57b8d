"""`python -m finetune <command>`: training and evaluation entry points.

- `data`: build the LM's chat-format training set (finetune/lm/data.py)
- `sft --config recipe.yaml [--resume]`: LoRA fine-tuning of the LM (finetune/lm/sft.py)
- `eval [--json]`: base model vs fine-tuned on held-out documents (finetune/lm/evaluate.py)
- `classifiers`, `eval-classifiers [--json]`: the risk, sentiment and intent heads
- `sentence-ranker [--json]`: the learned sentence order that completes replies (finetune/sentence_ranker.py)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.prompts import COPY_BIAS


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
    d = sub.add_parser("data", help="build the LM fine-tuning data from the documents")
    d.add_argument("--out", type=Path, default=None, help="output folder (default finetune/out/sft-data)")
    d.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("sft", help="LoRA fine-tuning of the LM")
    s.add_argument(
        "--config", type=Path, default=None, help="recipe YAML (default recipes/sft-smollm2-lora.yaml)"
    )
    s.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    s.add_argument("--max-steps", type=int, default=None, help="override the recipe's max_steps")
    v = sub.add_parser("eval", help="evaluate the base LM vs the fine-tuned adapter on held-out documents")
    v.add_argument("--json", action="store_true")
    v.add_argument("--limit", type=int, default=0, help="evaluate only the first N questions")
    v.add_argument("--max-unanswerable", type=int, default=0, help="cap the unanswerable questions (0 = all)")
    v.add_argument("--no-cache", action="store_true", help="regenerate replies even if cached")
    v.add_argument(
        "--copy-bias",
        type=float,
        default=COPY_BIAS,
        help="decode both models with this copy bonus (default: bot/prompts.py COPY_BIAS, as the assistant "
        "serves; 0 = plain greedy)",
    )
    v.add_argument(
        "--adapter", type=Path, default=None, help="adapter folder (default bot/models/lm-adapter)"
    )
    r = sub.add_parser("sentence-ranker", help="fit the learned sentence order that completes replies")
    r.add_argument(
        "--out", type=Path, default=None, help="ranker JSON (default bot/models/sentence_ranker.json)"
    )
    r.add_argument("--passages", type=int, default=None, help="passages per question (default: as served)")
    r.add_argument("--json", action="store_true", help="print the report as JSON only")
    r.add_argument("--dry-run", action="store_true", help="report without writing the ranker")
    return p


def _embedder():
    from knowledge import KnowledgeConfig, SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(KnowledgeConfig.from_env().resolved_embedding_model())


def _lm(args: argparse.Namespace) -> int:
    if args.command == "data":
        from knowledge import KnowledgeBase

        from .lm.data import DataConfig, build

        cfg = DataConfig(seed=args.seed, **({"out_dir": args.out} if args.out else {}))
        print(json.dumps(build(KnowledgeBase.open(build_if_missing=True, progress=True), cfg), indent=2))
        return 0
    if args.command == "sft":
        from .lm.recipe import DEFAULT_RECIPE, SFTRecipe
        from .lm.sft import train

        recipe = SFTRecipe.load(args.config or DEFAULT_RECIPE, max_steps=args.max_steps)
        summary = train(recipe, resume=args.resume)
        print(json.dumps({k: v for k, v in summary.items() if k != "loss_curve"}, indent=2))
        return 0
    from .lm.evaluate import main as evaluate_main

    return evaluate_main(args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in {"data", "sft", "eval"}:
        return _lm(args)
    if args.command == "sentence-ranker":
        from .sentence_ranker import run

        return run(args)
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
    sets = [
        ("risk", "eval.jsonl"),
        ("risk_eval_2", "eval_2.jsonl, written later"),
        ("risk_all_held_out", "both"),
    ]
    for key, title in sets:
        if key not in r:
            continue
        risk = r[key]
        lines.append(
            f"risk (held-out {title}): accuracy {risk['accuracy']}, macro-F1 {risk['macro_f1']}, "
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
