"""Evaluation of `bot.guards.pii` on the hand-written set `bot/guards/data/pii_eval.jsonl`.

    python -m bot.guards.pii_eval [--json] [--show-errors] [--path FILE]

Scoring. A gold entity is *found* when predicted spans of the same kind cover at least 80% of its characters
(recall per kind); it is *masked at all* when predicted spans of any kind cover 80% of it (what matters for
privacy). A prediction is *correct* when it lies at least half inside a gold entity of its kind, or covers
80% of one (precision per kind). The benign false-positive rate is the share of benign messages (no gold
entity; the bank's own contacts passed as `allow`) in which anything at all is masked.

`RECALL_TARGETS` and `BENIGN_FP_MAX` are the floors that `tests/bot/guards/test_pii.py` enforces.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .pii import PII_KINDS, PiiSpan, find_pii

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "pii_eval.jsonl"
COVER = 0.8
RECALL_TARGETS = {
    "CARD": 0.95,
    "IBAN": 0.95,
    "ACCOUNT": 0.95,
    "SSN": 0.95,
    "PHONE": 0.95,
    "EMAIL": 0.95,
    "NAME": 0.95,
    "ANY": 0.97,  # masked at all, every kind together
}
BENIGN_FP_MAX = 0.05


def load(path: str | Path | None = None) -> list[dict[str, Any]]:
    rows = []
    with Path(path or DEFAULT_PATH).open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def gold_spans(row: dict[str, Any]) -> list[tuple[str, int, int]]:
    """Gold entities as (kind, start, end): the k-th entity with a given text is its k-th occurrence."""
    out, seen = [], {}
    for ent in row["entities"]:
        start = -1
        for _ in range(seen.get(ent["text"], 0) + 1):
            start = row["text"].find(ent["text"], start + 1)
        if start < 0:
            raise ValueError(f"{row['id']}: {ent['text']!r} is not in the text")
        seen[ent["text"]] = seen.get(ent["text"], 0) + 1
        out.append((ent["kind"], start, start + len(ent["text"])))
    return out


def _covered(start: int, end: int, spans: list[PiiSpan]) -> float:
    chars = set()
    for s in spans:
        chars.update(range(max(start, s.start), min(end, s.end)))
    return len(chars) / max(1, end - start)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(path: str | Path | None = None) -> dict[str, Any]:
    """Per-kind recall, precision and F1 with counts, masked-at-all recall, the benign false-positive rate,
    timing, and the misses and false positives (for reading)."""
    rows = load(path)
    gold_n = dict.fromkeys(PII_KINDS, 0)
    found_n = dict.fromkeys(PII_KINDS, 0)
    pred_n = dict.fromkeys(PII_KINDS, 0)
    correct_n = dict.fromkeys(PII_KINDS, 0)
    any_found = 0
    benign = benign_fp = 0
    misses: list[dict[str, Any]] = []
    false_pos: list[dict[str, Any]] = []
    times: list[float] = []
    for row in rows:
        text = row["text"]
        t0 = time.perf_counter()
        pred = find_pii(text, allow=row.get("allow", ()))
        times.append(time.perf_counter() - t0)
        gold = gold_spans(row)
        for kind, s, e in gold:
            gold_n[kind] += 1
            same = _covered(s, e, [p for p in pred if p.kind == kind]) >= COVER
            masked = _covered(s, e, pred) >= COVER
            found_n[kind] += same
            any_found += masked
            if not same:
                misses.append({"id": row["id"], "kind": kind, "text": text[s:e], "masked_as_other": masked})
        for p in pred:
            pred_n[p.kind] += 1
            ok = any(
                k == p.kind
                and (
                    min(e, p.end) - max(s, p.start) >= 0.5 * (p.end - p.start) or _covered(s, e, [p]) >= COVER
                )
                for k, s, e in gold
            )
            correct_n[p.kind] += ok
            if not ok:
                false_pos.append({"id": row["id"], "kind": p.kind, "text": p.text, "benign": row["benign"]})
        if row["benign"]:
            benign += 1
            benign_fp += bool(pred)
    per_kind = {}
    for k in PII_KINDS:
        r = found_n[k] / gold_n[k] if gold_n[k] else 0.0
        p = correct_n[k] / pred_n[k] if pred_n[k] else 0.0
        per_kind[k] = {
            "recall": r,
            "precision": p,
            "f1": _f1(p, r),
            "gold": gold_n[k],
            "found": found_n[k],
            "predicted": pred_n[k],
            "correct": correct_n[k],
        }
    total_gold = sum(gold_n.values())
    times.sort()
    return {
        "messages": len(rows),
        "per_kind": per_kind,
        "masked_at_all_recall": any_found / total_gold if total_gold else 0.0,
        "gold_entities": total_gold,
        "benign_messages": benign,
        "benign_with_fp": benign_fp,
        "benign_fp_rate": benign_fp / benign if benign else 0.0,
        "ms_per_message_mean": 1000 * sum(times) / max(1, len(times)),
        "ms_per_message_max": 1000 * times[-1] if times else 0.0,
        "misses": misses,
        "false_positives": false_pos,
    }


def _table(res: dict[str, Any]) -> str:
    lines = [
        f"{'kind':8} {'recall':>7} {'prec':>7} {'F1':>7} {'gold':>5} {'found':>6} {'pred':>5} {'correct':>8}"
    ]
    for k, m in res["per_kind"].items():
        lines.append(
            f"{k:8} {m['recall']:7.3f} {m['precision']:7.3f} {m['f1']:7.3f} {m['gold']:5d} {m['found']:6d}"
            f" {m['predicted']:5d} {m['correct']:8d}"
        )
    lines += [
        f"masked-at-all recall: {res['masked_at_all_recall']:.3f} of {res['gold_entities']} entities",
        f"benign false-positive rate: {res['benign_fp_rate']:.3f} "
        f"({res['benign_with_fp']} of {res['benign_messages']} benign messages)",
        f"messages: {res['messages']}; find_pii {res['ms_per_message_mean']:.3f} ms mean, "
        f"{res['ms_per_message_max']:.3f} ms max per message",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.guards.pii_eval", description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print the full result as JSON")
    ap.add_argument("--show-errors", action="store_true", help="list misses and false positives")
    ap.add_argument("--path", default=None, help="evaluation set (JSONL); default: the packaged one")
    args = ap.parse_args(argv)
    res = evaluate(args.path)
    if args.json:
        print(json.dumps(res, indent=2, ensure_ascii=False))
        return 0
    print(_table(res))
    if args.show_errors:
        for m in res["misses"]:
            print(
                f"MISS {m['id']} {m['kind']:7} {m['text']!r}"
                + (" (masked as another kind)" * m["masked_as_other"])
            )
        for fp in res["false_positives"]:
            print(f"FP   {fp['id']} {fp['kind']:7} {fp['text']!r}" + (" [benign message]" * fp["benign"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
