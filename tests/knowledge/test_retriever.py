"""Ranking, fusion, de-duplication, the no-answer decision and the LangChain interface, on a fake
embedder (fast and deterministic)."""

from __future__ import annotations

from knowledge import KnowledgeBase
from knowledge.builder import build_index
from knowledge.retriever import tokenize


def _kb(cfg, emb) -> KnowledgeBase:
    build_index(cfg, emb, progress=False)
    return KnowledgeBase.open(cfg, emb)


def test_finds_the_right_section_with_citation_fields(small_cfg, fake_embedder) -> None:
    kb = _kb(small_cfg, fake_embedder)
    res = kb.retrieve("daily ATM withdrawal limit")
    top = res.passages[0]
    assert (top.doc_id, top.section) == ("debit-cards", "Daily limits")
    assert top.title == "Debit cards" and top.url == "https://bank.example/help/debit-cards"
    assert res.answerable and res.top_score == max(p.score for p in res.passages)
    assert res.timings_ms["total_ms"] >= res.timings_ms["embed_ms"] > 0


def test_below_threshold_means_no_answer(small_cfg, fake_embedder) -> None:
    kb = _kb(small_cfg.with_overrides(no_answer_threshold=0.9), fake_embedder)
    res = kb.retrieve("quantum chromodynamics lecture notes")
    assert not res.answerable and res.threshold == 0.9


def test_precomputed_query_vector_skips_embedding(small_cfg, fake_embedder) -> None:
    kb = _kb(small_cfg, fake_embedder)
    v = fake_embedder.encode(["savings interest rate"])[0]
    res = kb.retrieve("savings interest rate", query_vector=v)
    assert res.timings_ms["embed_ms"] == 0.0 and res.passages[0].section == "Interest rates"


def test_near_identical_chunks_are_returned_once(small_cfg, fake_embedder) -> None:
    text = (small_cfg.docs_dir / "debit-cards.md").read_text()
    (small_cfg.docs_dir / "debit-cards-copy.md").write_text(text.replace("2026-10-01", "2026-10-02"))
    kb = _kb(small_cfg, fake_embedder)
    res = kb.retrieve("daily ATM withdrawal limit", k=5)
    bodies = [" ".join(p.text.split()) for p in res.passages]
    assert len(bodies) == len(set(bodies))
    assert sum("withdrawal limit is $1,000" in b for b in bodies) == 1


def test_hybrid_adds_lexical_matches(small_cfg, fake_embedder) -> None:
    kb = _kb(small_cfg, fake_embedder)
    dense = kb.retrieve("APY", hybrid=False, k=4)
    hybrid = kb.retrieve("APY", hybrid=True, k=4)
    assert hybrid.passages[0].section == "Interest rates"
    assert hybrid.passages[0].fused_score > dense.passages[0].fused_score


def test_langchain_retriever(small_cfg, fake_embedder) -> None:
    kb = _kb(small_cfg, fake_embedder)
    docs = kb.as_langchain_retriever(k=2).invoke("freeze a lost card")
    assert len(docs) == 2
    assert docs[0].metadata["section"] == "Lost cards" and docs[0].metadata["url"].startswith("https://")
    assert {"score", "title", "doc_id", "answerable"} <= set(docs[0].metadata)
    strict = _kb(small_cfg.with_overrides(no_answer_threshold=0.99), fake_embedder)
    assert strict.as_langchain_retriever(drop_unanswerable=True).invoke("lost card") == []


def test_tokenize_drops_stopwords_and_keeps_amounts() -> None:
    assert tokenize("How do I send $1,000.50 to my mum's account?") == [
        "send",
        "1,000.50",
        "mum's",
        "account",
    ]


def test_the_fake_embedder_gives_one_token_vector_per_word() -> None:
    from knowledge import HashingEmbedder, TokenEmbedder

    emb = HashingEmbedder(dim=32)
    pooled, tokens = emb.encode_with_tokens(["wire fee", ""])
    assert isinstance(emb, TokenEmbedder)
    assert pooled.shape == (2, 32) and [t.shape for t in tokens] == [(2, 32), (0, 32)]
