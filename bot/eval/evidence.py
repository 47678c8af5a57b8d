"""`python -m bot.eval.evidence [--json] [--k 3]`: how much of the answer the retrieved passages hold, and
how much of it the extractive answer (bot/extractive.py) quotes, on the answerable questions of
bot/eval/data/questions.jsonl. No language model runs: this is the ceiling the model works under.

Figures (share of answerable questions whose gold facts are all present):
- `in_top_k_passages`: in at least one of the k passages the prompt shows (the retrieval's ceiling);
- `in_top_passage`: in the first passage;
- `extract_with_encoder` / `extract_words_only`: in the two-sentence cited extract, ranked with and without
  sentence embeddings;
- `scope_answerable`: the retrieval's scope model lets the question through.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from ..extractive import best_evidence
from ..guards.grounding import contains_fact
from ..prompts import DEFAULT_PASSAGES, passage_body

QUESTIONS = Path(__file__).resolve().parent / "data" / "questions.jsonl"


def measure(kb, k: int = DEFAULT_PASSAGES, progress: bool = True) -> dict:
    rows = [json.loads(x) for x in QUESTIONS.read_text(encoding="utf-8").splitlines() if x.strip()]
    answerable = [q for q in rows if q["answerable"]]
    counts = dict.fromkeys(
        (
            "in_top_k_passages",
            "in_top_passage",
            "extract_with_encoder",
            "extract_words_only",
            "scope_answerable",
        ),
        0,
    )
    for q in tqdm(answerable, desc="questions", unit="q", disable=not progress):
        res = kb.retrieve(q["question"], k=k)
        texts = [p.text for p in res.passages]

        def has(text: str, q: dict = q) -> bool:
            return all(contains_fact(text, f) for f in q["gold_facts"])

        counts["in_top_k_passages"] += any(has(passage_body(t)) for t in texts)
        counts["in_top_passage"] += bool(texts) and has(passage_body(texts[0]))
        counts["extract_with_encoder"] += has(best_evidence(q["question"], texts, kb.embedder.encode))
        counts["extract_words_only"] += has(best_evidence(q["question"], texts))
        counts["scope_answerable"] += bool(res.answerable)
    n = max(1, len(answerable))
    return {"questions": len(answerable), "k": k, **{key: round(v / n, 4) for key, v in counts.items()}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bot.eval.evidence", description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true")
    p.add_argument("--k", type=int, default=DEFAULT_PASSAGES, help="passages shown to the model")
    args = p.parse_args(argv)
    from knowledge import KnowledgeBase

    kb = KnowledgeBase.open(build_if_missing=True, progress=not args.json)
    report = measure(kb, args.k, progress=not args.json)
    print(json.dumps(report, indent=2) if args.json else "  ".join(f"{k}={v}" for k, v in report.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
