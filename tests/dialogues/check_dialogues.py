"""Check the scripted test dialogues in this folder (stdlib + PyYAML; exit 1 on any problem).

    python tests/dialogues/check_dialogues.py [--docs knowledge/docs] [--quiet]

Verifies:
- every expected group has a file `<group>.yaml` whose `group:` matches, and no unknown group files exist;
- each group has at least MIN_PER_GROUP dialogues and there are at least MIN_TOTAL in all;
- each dialogue has `id`, `description` and 1-4 `turns`; ids are unique, start with the group name
  (underscores as hyphens) and use only a-z, 0-9 and '-';
- each turn has a non-empty `user` string and an `expect` mapping that uses only the known keys, with
  values of the right type and from the allowed sets (risk, risk_level, sentiment, cites_doc);
- two or more negative turns in a row: every later one of the run expects `handoff_offered: true`;
- every string in `must_contain` / `must_contain_any` that contains a digit appears verbatim
  (case-insensitive) in some document under knowledge/docs, so figures and phone numbers are the ones
  the bank prints;
- no `must_not_contain` string appears in any document (a reply quoting the documents must never trip it).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GROUPS = (
    "product_questions",
    "follow_ups",
    "lost_card",
    "fraud",
    "angry_customer",
    "hardship",
    "advice",
    "out_of_scope",
    "injection",
    "personal_data",
)
MIN_PER_GROUP = 4
MIN_TOTAL = 48
MAX_TURNS = 4
RISKS = {"fraud", "lost_stolen", "account_security", "hardship", "complaint", "advice", "none"}
RISK_LEVELS = {"high", "medium", "low"}
SENTIMENTS = {"negative", "neutral", "positive"}
BOOL_KEYS = {"handoff_offered", "refusal", "dont_know", "cited"}
LIST_KEYS = {"must_contain_any", "must_contain", "must_not_contain"}
EXPECT_KEYS = {"risk", "risk_level", "sentiment", "cites_doc"} | BOOL_KEYS | LIST_KEYS
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def load_docs(docs_dir: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(docs_dir.glob("*.md"))}


def check_expect(where: str, expect, doc_stems: set[str], corpus: str, errors: list[str]) -> None:
    if not isinstance(expect, dict):
        errors.append(f"{where}: 'expect' must be a mapping")
        return
    for key in sorted(set(expect) - EXPECT_KEYS):
        errors.append(f"{where}: unknown expect key {key!r}")
    allowed = {"risk": RISKS, "risk_level": RISK_LEVELS, "sentiment": SENTIMENTS}
    for key, values in allowed.items():
        if key in expect and expect[key] not in values:
            errors.append(f"{where}: {key}={expect[key]!r} not in {sorted(values)}")
    if "cites_doc" in expect and expect["cites_doc"] not in doc_stems:
        errors.append(f"{where}: cites_doc={expect['cites_doc']!r} is not a document in knowledge/docs")
    for key in BOOL_KEYS & set(expect):
        if not isinstance(expect[key], bool):
            errors.append(f"{where}: {key} must be true or false")
    for key in LIST_KEYS & set(expect):
        items = expect[key]
        if not isinstance(items, list) or not all(isinstance(s, str) and s.strip() for s in items):
            errors.append(f"{where}: {key} must be a list of non-empty strings")
            continue
        for s in items:
            low = s.lower()
            if key == "must_not_contain":
                if low in corpus:
                    errors.append(f"{where}: must_not_contain {s!r} appears in the documents")
            elif any(ch.isdigit() for ch in s) and low not in corpus:
                errors.append(f"{where}: {key} {s!r} has a digit but is not verbatim in any document")
    if expect.get("cited") is False and "cites_doc" in expect:
        errors.append(f"{where}: cites_doc given with cited: false")


def check(dialogue_dir: Path, docs_dir: Path) -> tuple[list[str], dict[str, int]]:
    errors: list[str] = []
    docs = load_docs(docs_dir)
    if not docs:
        return [f"no documents found in {docs_dir}"], {}
    corpus = "\n".join(docs.values()).lower()
    counts: dict[str, int] = {}
    seen_ids: dict[str, str] = {}
    present = {p.stem for p in dialogue_dir.glob("*.yaml")} | {p.stem for p in dialogue_dir.glob("*.yml")}
    for extra in sorted(present - set(GROUPS)):
        errors.append(f"{extra}.yaml: not one of the groups {list(GROUPS)}")
    for group in GROUPS:
        path = dialogue_dir / f"{group}.yaml"
        if not path.exists():
            errors.append(f"{group}.yaml: missing")
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            errors.append(f"{path.name}: not valid YAML: {exc}")
            continue
        if not isinstance(data, dict) or set(data) != {"group", "dialogues"}:
            errors.append(f"{path.name}: top level must have exactly the keys 'group' and 'dialogues'")
            continue
        if data["group"] != group:
            errors.append(f"{path.name}: group is {data['group']!r}, expected {group!r}")
        dialogues = data["dialogues"]
        if not isinstance(dialogues, list):
            errors.append(f"{path.name}: 'dialogues' must be a list")
            continue
        counts[group] = len(dialogues)
        if len(dialogues) < MIN_PER_GROUP:
            errors.append(f"{path.name}: {len(dialogues)} dialogues, need at least {MIN_PER_GROUP}")
        prefix = group.replace("_", "-") + "-"
        for n, d in enumerate(dialogues):
            where = f"{path.name}[{n}]"
            if not isinstance(d, dict):
                errors.append(f"{where}: dialogue must be a mapping")
                continue
            for key in sorted(set(d) - {"id", "description", "turns", "known_failure"}):
                errors.append(f"{where}: unknown dialogue key {key!r}")
            did = d.get("id")
            if not isinstance(did, str) or not ID_RE.match(did):
                errors.append(f"{where}: bad or missing id {did!r}")
            else:
                where = f"{path.name}:{did}"
                if not did.startswith(prefix):
                    errors.append(f"{where}: id should start with {prefix!r}")
                if did in seen_ids:
                    errors.append(f"{where}: duplicate id (also in {seen_ids[did]})")
                seen_ids[did] = path.name
            if not isinstance(d.get("description"), str) or not d["description"].strip():
                errors.append(f"{where}: missing description")
            turns = d.get("turns")
            if not isinstance(turns, list) or not 1 <= len(turns) <= MAX_TURNS:
                errors.append(f"{where}: 'turns' must be a list of 1-{MAX_TURNS} turns")
                continue
            run = 0
            for t, turn in enumerate(turns):
                twhere = f"{where} turn {t + 1}"
                if not isinstance(turn, dict) or set(turn) - {"user", "expect"}:
                    errors.append(f"{twhere}: a turn has only 'user' and 'expect'")
                    continue
                if not isinstance(turn.get("user"), str) or not turn["user"].strip():
                    errors.append(f"{twhere}: missing user text")
                expect = turn.get("expect", {})
                check_expect(twhere, expect, set(docs), corpus, errors)
                if isinstance(expect, dict) and expect.get("sentiment") == "negative":
                    run += 1
                    if run >= 2 and expect.get("handoff_offered") is not True:
                        errors.append(
                            f"{twhere}: negative {run} turns in a row, expect handoff_offered: true"
                        )
                else:
                    run = 0
    total = sum(counts.values())
    if total < MIN_TOTAL:
        errors.append(f"{total} dialogues in all, need at least {MIN_TOTAL}")
    return errors, counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialogues", type=Path, default=HERE)
    ap.add_argument("--docs", type=Path, default=REPO / "knowledge" / "docs")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    errors, counts = check(args.dialogues, args.docs)
    if not args.quiet:
        for group in GROUPS:
            if group in counts:
                print(f"{group:18} {counts[group]:3d}")
        print(f"{'total':18} {sum(counts.values()):3d}")
    for e in errors:
        print("ERROR", e, file=sys.stderr)
    print("OK" if not errors else f"FAILED: {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
