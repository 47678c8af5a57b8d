"""Shared fixtures. Everything runs offline: model hubs are unreachable by design."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DOCS = ROOT / "knowledge" / "docs"

CARDS_MD = """---
title: Debit cards
product: debit-card
last_updated: 2026-10-01
url: https://bank.example/help/debit-cards
---
# Debit cards

Your debit card works everywhere Mastercard is accepted.

## Daily limits
The daily ATM withdrawal limit is $1,000 and the daily purchase limit is $5,000.

## Lost cards
Freeze a lost card in the app under Cards, then call 1-800-555-0199 at any time.
"""

SAVINGS_MD = """---
title: Savings accounts
product: savings
last_updated: 2026-09-01
url: https://bank.example/help/savings
---
# Savings accounts

## Interest rates
High Yield Savings earns 3.75% APY on all balances with no monthly fee.

## Withdrawals
Six free withdrawals per statement cycle, then $10 each.
"""


@pytest.fixture
def small_docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "debit-cards.md").write_text(CARDS_MD, encoding="utf-8")
    (d / "savings.md").write_text(SAVINGS_MD, encoding="utf-8")
    return d


@pytest.fixture
def fake_embedder():
    from knowledge import HashingEmbedder

    return HashingEmbedder(dim=256)


@pytest.fixture
def small_cfg(tmp_path: Path, small_docs: Path):
    from knowledge import KnowledgeConfig

    return KnowledgeConfig(docs_dir=small_docs, index_dir=tmp_path / "index", no_answer_threshold=0.15)


@pytest.fixture(scope="session")
def real_kb(tmp_path_factory):
    """The sample library indexed with the real all-MiniLM-L6-v2 (built once per test session)."""
    from knowledge import KnowledgeBase, KnowledgeConfig

    cfg = KnowledgeConfig(docs_dir=SAMPLE_DOCS, index_dir=tmp_path_factory.mktemp("real") / "index")
    KnowledgeBase.build(cfg, progress=False)
    return KnowledgeBase.open(cfg)


@pytest.fixture(scope="session")
def sample_kb(tmp_path_factory):
    """The sample library indexed with the deterministic hashing embedder, no query adapter and no scope
    model, a low no-answer threshold (built once per test session; tests only read it)."""
    from knowledge import HashingEmbedder, KnowledgeBase, KnowledgeConfig

    cfg = KnowledgeConfig(
        docs_dir=SAMPLE_DOCS,
        index_dir=tmp_path_factory.mktemp("sample") / "index",
        query_adapter="none",
        scope_model="none",
        no_answer_threshold=0.05,
    )
    emb = HashingEmbedder(dim=256)
    KnowledgeBase.build(cfg, emb, progress=False)
    return KnowledgeBase.open(cfg, emb)


@pytest.fixture
def copy_of_sample_docs(tmp_path: Path) -> Path:
    d = tmp_path / "sample-docs"
    shutil.copytree(SAMPLE_DOCS, d)
    return d
