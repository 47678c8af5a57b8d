"""Checks for the held-out assistant evaluation set in bot/eval/data/.

Run from the repository root:  python bot/eval/data/check_questions.py

Standalone: standard library plus PyYAML (for the documents' front matter); the near-duplicate checks are in
near_duplicates.py beside it. Exits with status 1 if any check fails.

questions.jsonl, answerable rows (id bq-NNNN):
- fields are exactly id, question, answerable, doc, section, gold_facts, style;
- doc is a file stem in knowledge/docs/ and section is the exact text of one of its H2 headings;
- 1-3 gold facts, each 1-5 words, each found verbatim (case-insensitive, whitespace collapsed, Markdown ** and `
  ignored) in that section's body text;
- at least 240 rows, at least 6 per document, every document covered;
- at least 70% of rows have a digit in a gold fact;
- style mix within 5 percentage points of short 20%, natural 30%, indirect 15%, misspelled 10%, long 10%,
  slang 15%; short questions have at most 8 words and long ones at least 25.
questions.jsonl, unanswerable rows (id bq-uNNN):
- fields are exactly id, question, answerable, kind; kind is one of KINDS, each kind used at least 8 times;
- at least 80 rows; for the rows listed in ABSENT_TERMS, none of the terms occurs (whole word,
  case-insensitive) in any document.
followups.jsonl (id bf-NNN):
- fields are exactly id, turns, doc, section, gold_facts; two non-empty turns, the second at most 12 words;
- at least 40 rows; doc, section and gold facts checked as for answerable rows (for the last turn).
Held out and new:
- ids unique across both files; no question text repeated;
- token Jaccard < 0.5 between every new question (every follow-up turn, and both turns joined) and every question
  in knowledge/eval/questions.jsonl and every training file there (*_train*.jsonl: retrieval, scope,
  near-miss and sentence training questions);
- no two new questions (answerable, unanswerable, first follow-up turns) have token Jaccard >= 0.6.
"""

from __future__ import annotations

import collections
import json
import re
import sys
import unicodedata
from pathlib import Path

import yaml
from near_duplicates import (
    JACCARD_REF_LIMIT,
    JACCARD_SELF_LIMIT,
    own_duplicates,
    reference_duplicates,
    tokens,
)

DATA_DIR = Path(__file__).resolve().parent
ROOT = DATA_DIR.parents[2]
DOCS_DIR = ROOT / "knowledge" / "docs"
REF_DIR = ROOT / "knowledge" / "eval"
REF_GLOBS = ("questions.jsonl", "*_train*.jsonl")  # the retrieval's evaluation set and every training file

MIN_ANSWERABLE = 240
MIN_PER_DOC = 6
MIN_UNANSWERABLE = 80
MIN_PER_KIND = 8
MIN_FOLLOWUPS = 40
MIN_DIGIT_SHARE = 0.70
STYLE_TARGETS = {
    "short": 0.20,
    "natural": 0.30,
    "indirect": 0.15,
    "misspelled": 0.10,
    "long": 0.10,
    "slang": 0.15,
}
STYLE_TOLERANCE = 0.05
KINDS = ("not_in_docs", "other_bank", "personal_account", "not_offered", "off_topic")

ANSWERABLE_KEYS = {"id", "question", "answerable", "doc", "section", "gold_facts", "style"}
UNANSWERABLE_KEYS = {"id", "question", "answerable", "kind"}
FOLLOWUP_KEYS = {"id", "turns", "doc", "section", "gold_facts"}

# Unanswerable rows whose subject has a distinctive name: none of these may occur in any document (whole word,
# case-insensitive). The other unanswerable rows were checked by hand (see README.md).
ABSENT_TERMS = {
    "bq-u002": ["notary", "notarized", "notarize"],
    "bq-u005": ["18-month", "18 month"],
    "bq-u006": ["48-month", "48 month"],
    "bq-u011": ["Boise"],
    "bq-u012": ["CEO", "chief executive"],
    "bq-u015": ["5/1", "10/6"],
    "bq-u016": ["certified check", "certified cheque"],
    "bq-u017": ["World Elite", "lounge"],
    "bq-u018": ["insurance cover", "collision"],
    "bq-u020": ["counter check"],
    "bq-u022": ["529"],
    "bq-u023": ["secured credit card", "secured card"],
    "bq-u024": ["business credit card", "LLC"],
    "bq-u025": ["reverse mortgage"],
    "bq-u026": ["home equity", "HELOC"],
    "bq-u027": ["life insurance"],
    "bq-u028": ["money market"],
    "bq-u029": ["bullion", "gold bar", "precious metal"],
    "bq-u030": ["portfolio", "wealth management"],
    "bq-u031": ["land loan", "lot loan"],
    "bq-u032": ["car lease", "leasing"],
    "bq-u033": ["equipment financing", "excavator"],
    "bq-u034": ["Christmas club"],
    "bq-u035": ["write a will", "estate planning"],
    "bq-u036": ["crypto", "ethereum", "bitcoin"],
    "bq-u037": ["health savings", "HSA"],
    "bq-u038": ["personal line of credit"],
    "bq-u039": ["currency exchange", "foreign cash"],
    "bq-u040": ["Capital One"],
    "bq-u041": ["Ally"],
    "bq-u042": ["Discover"],
    "bq-u043": ["U.S. Bank", "usbank"],
    "bq-u044": ["Cash App"],
    "bq-u045": ["Wells Fargo"],
    "bq-u046": ["SoFi"],
    "bq-u047": ["Venmo"],
    "bq-u048": ["Navy Federal"],
    "bq-u049": ["BECU"],
    "bq-u050": ["Citi"],
    "bq-u051": ["Amex", "American Express"],
    "bq-u052": ["PayPal"],
    "bq-u053": ["Schwab"],
    "bq-u054": ["KeyBank"],
    "bq-u055": ["Zelle", "Bank of America"],
}

failures: list[str] = []


def fail(msg: str) -> None:
    failures.append(msg)
    print(f"FAIL: {msg}")


def norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("**", "").replace("`", "")
    return re.sub(r"\s+", " ", text).strip().lower()


# --- documents ----------------------------------------------------------------------------------------------------


def load_docs() -> dict[str, dict[str, str]]:
    """doc stem -> {H2 heading: normalised body text of that section}."""
    docs: dict[str, dict[str, str]] = {}
    for path in sorted(DOCS_DIR.glob("*.md")):
        text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
        if text.startswith("---"):
            end = text.find("\n---", 3)
            if end < 0:
                fail(f"{path.name}: front matter never closed")
                continue
            meta = yaml.safe_load(text[3:end]) or {}
            if not isinstance(meta, dict):
                fail(f"{path.name}: front matter is not a mapping")
            text = text[end + 4 :]
        sections: dict[str, list[str]] = {}
        current = None
        for line in text.splitlines():
            if line.startswith("## "):
                current = line[3:].strip()
                if current in sections:
                    fail(f"{path.name}: duplicate H2 heading {current!r}")
                sections[current] = []
            elif current is not None and not line.startswith("# "):
                sections[current].append(line)
        docs[path.stem] = {h: norm("\n".join(body)) for h, body in sections.items()}
    return docs


def load_jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            fail(f"{path.name}:{n}: blank line")
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            fail(f"{path.name}:{n}: not valid JSON ({exc})")
            continue
        if not isinstance(row, dict):
            fail(f"{path.name}:{n}: not a JSON object")
            continue
        rows.append(row)
    return rows


def check_grounding(rid: str, row: dict, docs: dict[str, dict[str, str]]) -> bool:
    """doc, section and gold_facts of an answerable row or follow-up; True if all is well."""
    ok = True
    doc, section, facts = row.get("doc"), row.get("section"), row.get("gold_facts")
    if doc not in docs:
        fail(f"{rid}: unknown doc {doc!r}")
        return False
    if section not in docs[doc]:
        fail(f"{rid}: {doc} has no H2 section {section!r}")
        return False
    if not isinstance(facts, list) or not 1 <= len(facts) <= 3:
        fail(f"{rid}: gold_facts must be a list of 1-3 strings")
        return False
    body = docs[doc][section]
    for fact in facts:
        if not isinstance(fact, str) or not fact.strip():
            fail(f"{rid}: empty or non-string gold fact {fact!r}")
            ok = False
            continue
        if not 1 <= len(fact.split()) <= 5:
            fail(f"{rid}: gold fact {fact!r} is not 1-5 words")
            ok = False
        if norm(fact) not in body:
            fail(f"{rid}: gold fact {fact!r} not found in {doc} / {section!r}")
            ok = False
    if len({norm(f) for f in facts if isinstance(f, str)}) != len(facts):
        fail(f"{rid}: repeated gold fact")
        ok = False
    return ok


# --- the checks ---------------------------------------------------------------------------------------------------


def main() -> int:
    docs = load_docs()
    if not docs:
        fail(f"no documents found in {DOCS_DIR}")
        return 1
    questions = load_jsonl(DATA_DIR / "questions.jsonl")
    followups = load_jsonl(DATA_DIR / "followups.jsonl")

    ids: collections.Counter = collections.Counter(str(r.get("id")) for r in questions + followups)
    for rid, n in ids.items():
        if n > 1:
            fail(f"id {rid} used {n} times")

    answerable = [r for r in questions if r.get("answerable") is True]
    unanswerable = [r for r in questions if r.get("answerable") is False]
    for r in questions:
        if r.get("answerable") not in (True, False):
            fail(f"{r.get('id')}: answerable must be true or false")

    # answerable rows
    by_doc: collections.Counter = collections.Counter()
    by_style: collections.Counter = collections.Counter()
    with_digit = 0
    for r in answerable:
        rid = str(r.get("id"))
        if set(r) != ANSWERABLE_KEYS:
            fail(f"{rid}: fields {sorted(r)} != {sorted(ANSWERABLE_KEYS)}")
        if not re.fullmatch(r"bq-\d{4}", rid):
            fail(f"{rid}: answerable ids look like bq-0001")
        if not isinstance(r.get("question"), str) or not r["question"].strip():
            fail(f"{rid}: empty question")
            continue
        style = r.get("style")
        if style not in STYLE_TARGETS:
            fail(f"{rid}: unknown style {style!r}")
        n_words = len(r["question"].split())
        if style == "short" and n_words > 8:
            fail(f"{rid}: short question has {n_words} words")
        if style == "long" and n_words < 25:
            fail(f"{rid}: long question has only {n_words} words")
        check_grounding(rid, r, docs)
        by_doc[r.get("doc")] += 1
        by_style[style] += 1
        if any(isinstance(f, str) and re.search(r"\d", f) for f in r.get("gold_facts") or []):
            with_digit += 1

    n_ans = len(answerable)
    if n_ans < MIN_ANSWERABLE:
        fail(f"{n_ans} answerable rows, need at least {MIN_ANSWERABLE}")
    for doc in docs:
        if by_doc[doc] < MIN_PER_DOC:
            fail(f"{doc}: {by_doc[doc]} answerable rows, need at least {MIN_PER_DOC}")
    digit_share = with_digit / n_ans if n_ans else 0.0
    if digit_share < MIN_DIGIT_SHARE:
        fail(
            f"only {digit_share:.0%} of answerable rows have a digit in a gold fact (need {MIN_DIGIT_SHARE:.0%})"
        )
    for style, target in STYLE_TARGETS.items():
        share = by_style[style] / n_ans if n_ans else 0.0
        if abs(share - target) > STYLE_TOLERANCE:
            fail(
                f"style {style}: {share:.1%} of answerable rows, target {target:.0%} +/- {STYLE_TOLERANCE:.0%}"
            )

    # unanswerable rows
    by_kind: collections.Counter = collections.Counter()
    all_doc_text = "\n".join(norm(" ".join(s.values())) for s in docs.values())
    for r in unanswerable:
        rid = str(r.get("id"))
        if set(r) != UNANSWERABLE_KEYS:
            fail(f"{rid}: fields {sorted(r)} != {sorted(UNANSWERABLE_KEYS)}")
        if not re.fullmatch(r"bq-u\d{3}", rid):
            fail(f"{rid}: unanswerable ids look like bq-u001")
        if not isinstance(r.get("question"), str) or not r["question"].strip():
            fail(f"{rid}: empty question")
        if r.get("kind") not in KINDS:
            fail(f"{rid}: unknown kind {r.get('kind')!r}")
        by_kind[r.get("kind")] += 1
    if len(unanswerable) < MIN_UNANSWERABLE:
        fail(f"{len(unanswerable)} unanswerable rows, need at least {MIN_UNANSWERABLE}")
    for kind in KINDS:
        if by_kind[kind] < MIN_PER_KIND:
            fail(f"kind {kind}: {by_kind[kind]} rows, need at least {MIN_PER_KIND}")
    unanswerable_ids = {str(r.get("id")) for r in unanswerable}
    for rid, terms in ABSENT_TERMS.items():
        if rid not in unanswerable_ids:
            fail(f"ABSENT_TERMS names {rid}, which is not an unanswerable row")
        for term in terms:
            if re.search(r"(?<![a-z0-9])" + re.escape(norm(term)) + r"(?![a-z0-9])", all_doc_text):
                fail(f"{rid}: {term!r} occurs in the documents, so the question may be answerable")

    # follow-ups
    fu_by_doc: collections.Counter = collections.Counter()
    for r in followups:
        rid = str(r.get("id"))
        if set(r) != FOLLOWUP_KEYS:
            fail(f"{rid}: fields {sorted(r)} != {sorted(FOLLOWUP_KEYS)}")
        if not re.fullmatch(r"bf-\d{3}", rid):
            fail(f"{rid}: follow-up ids look like bf-001")
        turns = r.get("turns")
        if not (
            isinstance(turns, list)
            and len(turns) == 2
            and all(isinstance(t, str) and t.strip() for t in turns)
        ):
            fail(f"{rid}: turns must be two non-empty strings")
            continue
        if len(turns[1].split()) > 12:
            fail(f"{rid}: second turn is not a short follow-up")
        check_grounding(rid, r, docs)
        fu_by_doc[r.get("doc")] += 1
    if len(followups) < MIN_FOLLOWUPS:
        fail(f"{len(followups)} follow-ups, need at least {MIN_FOLLOWUPS}")

    # held out: no near-duplicates of the existing question files, none among the new questions
    refs = [
        (f"{path.name}:{row.get('id')}", tokens(str(row.get("question", ""))))
        for pattern in REF_GLOBS
        for path in sorted(REF_DIR.glob(pattern))
        for row in load_jsonl(path)
    ]
    texts: list[tuple[str, str]] = [(str(r.get("id")), str(r.get("question", ""))) for r in questions]
    for r in followups:
        turns = r.get("turns") if isinstance(r.get("turns"), list) else []
        for k, t in enumerate(turns):
            texts.append((f"{r.get('id')} turn {k + 1}", str(t)))
        texts.append((f"{r.get('id')} joined", " ".join(str(t) for t in turns)))
    ref_found = reference_duplicates(texts, refs)
    for msg in ref_found:
        fail(msg)

    seen: dict[str, str] = {}
    for r in questions:
        key = norm(str(r.get("question", "")))
        if key in seen:
            fail(f"{r.get('id')}: same question as {seen[key]}")
        seen[key] = str(r.get("id"))
    own = [(str(r.get("id")), tokens(str(r.get("question", "")))) for r in questions]
    own += [(f"{r.get('id')} turn 1", tokens(str((r.get("turns") or [""])[0]))) for r in followups]
    own_found = own_duplicates(own)
    for msg in own_found:
        fail(msg)
    ref_hits, self_hits = len(ref_found), len(own_found)

    # report
    print(
        f"Answerable: {n_ans} rows, {len(by_doc)} of {len(docs)} documents, "
        f"{digit_share:.0%} with a digit in a gold fact"
    )
    print("  by document:")
    for doc in docs:
        print(f"    {doc:<38}{by_doc[doc]:>4}")
    print("  by style:")
    for style, target in STYLE_TARGETS.items():
        share = by_style[style] / n_ans if n_ans else 0.0
        print(f"    {style:<12}{by_style[style]:>4}  {share:6.1%}  (target {target:.0%})")
    print(f"Unanswerable: {len(unanswerable)} rows")
    for kind in KINDS:
        print(f"    {kind:<18}{by_kind[kind]:>4}")
    print(f"  {len(ABSENT_TERMS)} rows checked for absent terms in the documents")
    print(f"Follow-ups: {len(followups)} two-turn items over {len(fu_by_doc)} documents")
    print(
        f"Held out: {len(texts)} texts against {len(refs)} reference questions, Jaccard >= {JACCARD_REF_LIMIT}: "
        f"{ref_hits}; pairs among new questions with Jaccard >= {JACCARD_SELF_LIMIT}: {self_hits}"
    )
    if failures:
        print(f"\n{len(failures)} check(s) failed")
        return 1
    print("\nAll checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
