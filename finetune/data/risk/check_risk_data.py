"""Checks for the risk-classifier data in finetune/data/risk/.

Run from the repository root:  python finetune/data/risk/check_risk_data.py

- banking77_map.yaml maps every one of the 77 Banking77 intents to a valid risk category (and nothing else);
  prints Banking77 rows per risk category.
- nlupp_map.yaml is well formed; prints NLU++ banking examples per risk category and which rule labelled them;
  every text override must match an NLU++ example.
- written_train.jsonl, written_train_2.jsonl, written_train_3.jsonl, written_train_4.jsonl, written_train_5.jsonl and
  eval.jsonl: fields, ids, categories, levels, no duplicate texts (within a file, and across the training files);
  prints counts.
- eval_2.jsonl (a second held-out set, written later and blind to all of the above) likewise, at Jaccard < 0.5
  against every written file and eval.jsonl, < 0.6 against Banking77 and NLU++.
- eval.jsonl is held out: no eval text has a near-duplicate (token Jaccard >= 0.6) in written_train.jsonl,
  Banking77 or NLU++ texts, nor (stricter, Jaccard >= 0.5) in written_train_2.jsonl, written_train_3.jsonl,
  written_train_4.jsonl or written_train_5.jsonl, which were written after the eval set; no two eval texts are
  near-duplicates of each other. Prints the highest similarity per source.

Exits with status 1 if any check fails.
"""

from __future__ import annotations

import collections
import csv
import json
import re
import sys
from pathlib import Path

import yaml

RISK_DIR = Path(__file__).resolve().parent
DATA_DIR = RISK_DIR.parent
CATEGORIES = ("fraud", "lost_stolen", "account_security", "hardship", "complaint", "advice", "none")
LEVELS = ("high", "medium", "low")
# Levels allowed per category: high = fraud / lost / security happening now; medium = hardship, complaint, or a
# past or uncertain security worry; low = advice, none.
ALLOWED_LEVELS = {
    "fraud": {"high", "medium"},
    "lost_stolen": {"high", "medium"},
    "account_security": {"high", "medium"},
    "hardship": {"medium"},
    "complaint": {"medium"},
    "advice": {"low"},
    "none": {"low"},
}
JACCARD_LIMIT = 0.6
# Later training files (written after eval.jsonl existed) must stay further from every eval message.
JACCARD_LIMIT_LATER = 0.5
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

failures: list[str] = []


def fail(msg: str) -> None:
    failures.append(msg)
    print(f"FAIL: {msg}")


def tokens(text: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(text.lower()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def print_counts(title: str, counts: collections.Counter) -> None:
    total = sum(counts.values())
    print(f"\n{title} (total {total})")
    for cat in CATEGORIES:
        print(f"  {cat:<17}{counts.get(cat, 0):>6}")


# --- Banking77 -------------------------------------------------------------------------------------------------


def load_banking77() -> list[dict[str, str]]:
    with open(DATA_DIR / "banking77" / "train.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def check_banking77(rows: list[dict[str, str]]) -> None:
    intents = json.loads((DATA_DIR / "banking77" / "categories.json").read_text(encoding="utf-8"))
    mapping = yaml.safe_load((RISK_DIR / "banking77_map.yaml").read_text(encoding="utf-8"))
    if len(intents) != 77:
        fail(f"categories.json has {len(intents)} intents, expected 77")
    missing = sorted(set(intents) - set(mapping))
    extra = sorted(set(mapping) - set(intents))
    if missing:
        fail(f"banking77_map.yaml misses intents: {missing}")
    if extra:
        fail(f"banking77_map.yaml has unknown intents: {extra}")
    for intent, entry in mapping.items():
        if not isinstance(entry, dict) or entry.get("risk") not in CATEGORIES:
            fail(f"banking77_map.yaml: {intent} has invalid risk {entry!r}")
        elif not str(entry.get("reason", "")).strip():
            fail(f"banking77_map.yaml: {intent} has no reason")
    row_intents = {r["category"] for r in rows}
    if row_intents - set(intents):
        fail(f"train.csv has intents not in categories.json: {sorted(row_intents - set(intents))}")
    print(f"Banking77: {len(intents)} intents, {len(mapping)} mapped, {len(rows)} train rows")
    counts = collections.Counter(mapping[r["category"]]["risk"] for r in rows if r["category"] in mapping)
    print_counts("Banking77 rows per risk category", counts)
    by_cat = collections.defaultdict(list)
    for intent, entry in sorted(mapping.items()):
        by_cat[entry["risk"]].append(intent)
    for cat in CATEGORIES:
        if cat != "none":
            print(f"  {cat}: {', '.join(by_cat.get(cat, [])) or '-'}")


# --- NLU++ -----------------------------------------------------------------------------------------------------


def load_nlupp() -> list[dict]:
    folder = DATA_DIR / "nlupp_banking"
    files = sorted(folder.glob("fold*.json"), key=lambda p: int(p.stem[4:]))
    examples = []
    for path in files:
        for ex in json.loads(path.read_text(encoding="utf-8")):
            examples.append({**ex, "fold": path.stem})
    return examples


def nlupp_risk(example: dict, spec: dict) -> tuple[str, str]:
    """Return (risk, rule name) for one NLU++ example under nlupp_map.yaml."""
    key = example["text"].strip().lower()
    for override in spec["text_overrides"]:
        if override["text"].strip().lower() == key:
            return override["risk"], "text_override"
    modules = set(example.get("intents") or [])
    for rule in spec["rules"]:
        if not set(rule["all_of"]) <= modules:
            continue
        if rule.get("any_of") and not modules & set(rule["any_of"]):
            continue
        if rule.get("none_of") and modules & set(rule["none_of"]):
            continue
        return rule["risk"], rule["name"]
    return spec["default"]["risk"], "default"


def check_nlupp(examples: list[dict]) -> None:
    spec = yaml.safe_load((RISK_DIR / "nlupp_map.yaml").read_text(encoding="utf-8"))
    known = {m for ex in examples for m in ex.get("intents") or []}
    if spec["default"]["risk"] not in CATEGORIES:
        fail("nlupp_map.yaml: invalid default risk")
    for rule in spec["rules"]:
        if rule["risk"] not in CATEGORIES or not rule.get("reason"):
            fail(f"nlupp_map.yaml: rule {rule.get('name')} has invalid risk or no reason")
        for module in [*rule["all_of"], *rule.get("any_of", []), *rule.get("none_of", [])]:
            if module not in known:
                fail(f"nlupp_map.yaml: rule {rule['name']} uses unknown intent module {module}")
    texts = {ex["text"].strip().lower() for ex in examples}
    for override in spec["text_overrides"]:
        if override["risk"] not in CATEGORIES or not override.get("reason"):
            fail(f"nlupp_map.yaml: override {override['text']!r} has invalid risk or no reason")
        if override["text"].strip().lower() not in texts:
            fail(f"nlupp_map.yaml: override text not found in NLU++: {override['text']!r}")
    labelled = [nlupp_risk(ex, spec) for ex in examples]
    print(f"\nNLU++ banking: {len(examples)} examples, {len(known)} intent modules")
    print_counts("NLU++ examples per risk category", collections.Counter(r for r, _ in labelled))
    by_rule = collections.Counter(f"{name} -> {risk}" for risk, name in labelled)
    for key, n in sorted(by_rule.items()):
        print(f"  {key}: {n}")


# --- written data ----------------------------------------------------------------------------------------------


def load_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    fail(f"{path.name}:{n}: invalid JSON ({e})")
    return rows


def check_written(path: Path, prefix: str, minimum: dict[str, int]) -> list[dict]:
    rows = load_jsonl(path)
    seen_ids, seen_texts = set(), {}
    for n, row in enumerate(rows, 1):
        where = f"{path.name}:{n}"
        if set(row) != {"id", "text", "risk", "level"}:
            fail(f"{where}: fields {sorted(row)}")
            continue
        if row["id"] != f"{prefix}-{n:04d}":
            fail(f"{where}: id {row['id']} (expected {prefix}-{n:04d})")
        if row["id"] in seen_ids:
            fail(f"{where}: duplicate id {row['id']}")
        seen_ids.add(row["id"])
        if row["risk"] not in CATEGORIES:
            fail(f"{where}: invalid risk {row['risk']!r}")
        elif row["level"] not in ALLOWED_LEVELS[row["risk"]]:
            fail(f"{where}: level {row['level']!r} not allowed for {row['risk']}")
        text = row["text"].strip()
        if not text or text != row["text"]:
            fail(f"{where}: empty or untrimmed text")
        if text.lower() in seen_texts:
            fail(f"{where}: duplicate text of line {seen_texts[text.lower()]}")
        seen_texts[text.lower()] = n
    counts = collections.Counter(r["risk"] for r in rows)
    levels = collections.Counter((r["risk"], r["level"]) for r in rows)
    print_counts(f"{path.name} per risk category", counts)
    for cat in CATEGORIES:
        split = ", ".join(f"{lv} {levels[(cat, lv)]}" for lv in LEVELS if levels[(cat, lv)])
        print(f"    {cat}: {split}")
        if counts.get(cat, 0) < minimum.get(cat, 0):
            fail(f"{path.name}: {cat} has {counts.get(cat, 0)} rows, expected at least {minimum[cat]}")
    return rows


def check_held_out(eval_rows: list[dict], references: dict[str, tuple[list[str], float]]) -> None:
    """references: source name -> (texts, Jaccard limit); an eval text at or above the limit fails."""
    eval_tokens = [(r["id"], r["text"], tokens(r["text"])) for r in eval_rows]
    hits = 0
    for source, (texts, limit) in references.items():
        index: dict[str, set[int]] = collections.defaultdict(set)
        ref_tokens = [tokens(t) for t in texts]
        for i, toks in enumerate(ref_tokens):
            for tok in toks:
                index[tok].add(i)
        highest = 0.0
        for eid, text, toks in eval_tokens:
            candidates = set().union(*(index.get(t, set()) for t in toks)) if toks else set()
            best = max(((jaccard(toks, ref_tokens[i]), i) for i in candidates), default=(0.0, -1))
            highest = max(highest, best[0])
            if best[0] >= limit:
                hits += 1
                fail(f"eval {eid} near-duplicate ({best[0]:.2f}) of {source}: {text!r} ~ {texts[best[1]]!r}")
        print(f"  eval vs {source}: {len(texts)} texts, highest token Jaccard {highest:.2f} (limit {limit})")
    for i, (eid_a, _, toks_a) in enumerate(eval_tokens):
        for eid_b, _, toks_b in eval_tokens[i + 1 :]:
            if jaccard(toks_a, toks_b) >= JACCARD_LIMIT:
                hits += 1
                fail(f"eval {eid_a} and {eid_b} are near-duplicates of each other")
    print(f"Held-out check: {len(eval_rows)} eval texts; near-duplicates: {hits} hits")


def main() -> int:
    b77 = load_banking77()
    check_banking77(b77)
    nlupp = load_nlupp()
    check_nlupp(nlupp)
    big = dict.fromkeys(("hardship", "advice", "account_security", "none"), 120)
    small = dict.fromkeys(("fraud", "lost_stolen", "complaint"), 60)
    train = check_written(RISK_DIR / "written_train.jsonl", "rw", big | small)
    train_2 = check_written(
        RISK_DIR / "written_train_2.jsonl", "rw2", {"fraud": 300, "complaint": 120, "none": 120}
    )
    train_3 = check_written(
        RISK_DIR / "written_train_3.jsonl",
        "rw3",
        {"fraud": 140, "complaint": 30, "none": 45, "account_security": 10},
    )
    train_4 = check_written(
        RISK_DIR / "written_train_4.jsonl",
        "rw4",
        {"fraud": 130, "complaint": 70, "account_security": 40, "lost_stolen": 40, "none": 40},
    )
    # written_train_5.jsonl: 300 messages were written; the 9 this check flagged against eval.jsonl or eval_2.jsonl
    # were deleted, not rewritten, and the rest renumbered.
    train_5 = check_written(
        RISK_DIR / "written_train_5.jsonl",
        "rw5",
        {"fraud": 149, "lost_stolen": 49, "account_security": 50, "complaint": 21, "none": 22},
    )
    seen: dict[str, str] = {}
    for row in train + train_2 + train_3 + train_4 + train_5:
        key = row["text"].strip().lower()
        if key in seen:
            fail(f"training text {row['id']} repeats {seen[key]}: {row['text']!r}")
        seen.setdefault(key, row["id"])
    evals = check_written(RISK_DIR / "eval.jsonl", "re", dict.fromkeys(CATEGORIES, 55))
    if len(evals) < 420:
        fail(f"eval.jsonl has {len(evals)} rows, expected at least 420")
    print()
    written = {
        "written_train": [r["text"] for r in train],
        "written_train_2": [r["text"] for r in train_2],
        "written_train_3": [r["text"] for r in train_3],
        "written_train_4": [r["text"] for r in train_4],
        "written_train_5": [r["text"] for r in train_5],
    }
    sources = {
        "banking77": ([r["text"] for r in b77], JACCARD_LIMIT),
        "nlupp": ([ex["text"] for ex in nlupp], JACCARD_LIMIT),
    }
    # written_train.jsonl predates eval.jsonl; the later files are held to the stricter limit.
    first_limit = {"written_train": JACCARD_LIMIT}
    check_held_out(
        evals,
        {name: (texts, first_limit.get(name, JACCARD_LIMIT_LATER)) for name, texts in written.items()}
        | sources,
    )
    # eval_2.jsonl: a second held-out set, written blind to every file above (320 messages; the 30 this check
    # flagged were deleted, not rewritten, and the rest renumbered); eval.jsonl is one more reference.
    evals_2 = check_written(
        RISK_DIR / "eval_2.jsonl",
        "re2",
        {"fraud": 98, "lost_stolen": 42, "account_security": 53, "hardship": 29, "complaint": 34}
        | {"advice": 16, "none": 18},
    )
    print()
    check_held_out(
        evals_2,
        {name: (texts, JACCARD_LIMIT_LATER) for name, texts in written.items()}
        | sources
        | {"eval": ([r["text"] for r in evals], JACCARD_LIMIT_LATER)},
    )
    print(f"\n{'FAILED: ' + str(len(failures)) + ' problem(s)' if failures else 'All checks passed.'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
