"""bot.eval.evidence on a small question file: the retrieval ceiling and the extract's share are measured,
not assumed."""

from __future__ import annotations

import json

from bot.eval import evidence
from knowledge import HashingEmbedder, KnowledgeBase, KnowledgeConfig

from ...conftest import SAMPLE_DOCS


def test_measure_counts_gold_facts_in_passages_and_extract(tmp_path, monkeypatch) -> None:
    cfg = KnowledgeConfig(
        docs_dir=SAMPLE_DOCS, index_dir=tmp_path / "index", query_adapter="none", scope_model="none"
    )
    emb = HashingEmbedder(dim=256)
    KnowledgeBase.build(cfg, emb, progress=False)
    kb = KnowledgeBase.open(cfg, emb)
    rows = [
        {"question": "overdraft fee per item", "answerable": True, "gold_facts": ["$15"]},
        {
            "question": "overdraft fee per item",
            "answerable": True,
            "gold_facts": ["$987,654"],
        },  # in no document
        {"question": "weather tomorrow", "answerable": False},
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    monkeypatch.setattr(evidence, "QUESTIONS", path)
    r = evidence.measure(kb, k=3, progress=False)
    assert r["questions"] == 2
    assert r["in_top_k_passages"] == 0.5 and r["in_top_passage"] <= r["in_top_k_passages"]
    assert r["extract_with_encoder"] <= 0.5 and r["extract_words_only"] <= 0.5
