"""Labelled data for the classifiers, read from `finetune/data/` (each folder carries its licence):

- Banking77 (CC BY 4.0): 77 intents; mapped to risk categories by `risk/banking77_map.yaml`;
- NLU++ banking (CC BY 4.0): mapped to risk categories by the ordered rules of `risk/nlupp_map.yaml`;
- the project's own written examples: `risk/written_train.jsonl`, `sentiment/train.jsonl`;
- held-out sets: `risk/eval.jsonl`, `sentiment/eval.jsonl` (never trained on) and a seeded, stratified
  20% of Banking77's train split.

This module only reads and maps; it does not embed or train.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
RISK_CATEGORIES = ("fraud", "lost_stolen", "account_security", "hardship", "complaint", "advice", "none")


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    source: str


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


def banking77(data_dir: Path = DATA_DIR) -> list[Example]:
    with (data_dir / "banking77" / "train.csv").open(encoding="utf-8") as f:
        return [Example(r["text"], r["category"], "banking77") for r in csv.DictReader(f)]


def banking77_risk_map(data_dir: Path = DATA_DIR) -> dict[str, str]:
    spec = yaml.safe_load((data_dir / "risk" / "banking77_map.yaml").read_text("utf-8"))
    mapping = {intent: v["risk"] for intent, v in spec.items()}
    bad = {k: v for k, v in mapping.items() if v not in RISK_CATEGORIES}
    if bad:
        raise ValueError(f"banking77_map.yaml maps to unknown categories: {bad}")
    return mapping


def nlupp_risk(text: str, intents: list[str], spec: dict) -> str:
    """First match wins: exact-text overrides, then rules over the example's intent modules, then default."""
    key = text.strip().lower()
    for override in spec.get("text_overrides", []):
        if override["text"].strip().lower() == key:
            return override["risk"]
    modules = set(intents)
    for rule in spec.get("rules", []):
        if not set(rule.get("all_of", [])) <= modules:
            continue
        if rule.get("any_of") and not modules & set(rule["any_of"]):
            continue
        if rule.get("none_of") and modules & set(rule["none_of"]):
            continue
        return rule["risk"]
    return spec["default"]["risk"]


def nlupp(data_dir: Path = DATA_DIR) -> list[Example]:
    spec = yaml.safe_load((data_dir / "risk" / "nlupp_map.yaml").read_text("utf-8"))
    out = []
    for fold in sorted((data_dir / "nlupp_banking").glob("fold*.json")):
        for ex in json.loads(fold.read_text("utf-8")):
            out.append(Example(ex["text"], nlupp_risk(ex["text"], ex.get("intents") or [], spec), "nlupp"))
    return out


def written_risk(data_dir: Path = DATA_DIR) -> list[Example]:
    """Every `risk/written_train*.jsonl` file (the project's own examples)."""
    return [
        Example(r["text"], r["risk"], "written")
        for path in sorted((data_dir / "risk").glob("written_train*.jsonl"))
        for r in _jsonl(path)
    ]


RISK_EVAL_SETS = (
    "eval.jsonl",
    "eval_2.jsonl",
)  # held-out risk sets; eval_2 was written later, blind to the rest


def risk_eval(data_dir: Path = DATA_DIR, name: str = "eval.jsonl") -> list[Example]:
    return [Example(r["text"], r["risk"], "risk-eval") for r in _jsonl(data_dir / "risk" / name)]


def sentiment(split: str, data_dir: Path = DATA_DIR) -> list[Example]:
    return [
        Example(r["text"], r["label"], f"sentiment-{split}")
        for r in _jsonl(data_dir / "sentiment" / f"{split}.jsonl")
    ]


def banking77_split(rows: list[Example], test_size: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded stratified split of Banking77's train file into train and held-out rows."""
    from sklearn.model_selection import train_test_split

    idx = list(range(len(rows)))
    train, test = train_test_split(
        idx, test_size=test_size, random_state=seed, stratify=[r.label for r in rows]
    )
    return sorted(train), sorted(test)
