"""The query adapter: identity when untrained, saved and refused like the scope model, and training on
labelled questions moves the queries towards their sections."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge import ConfigError, KnowledgeBase
from knowledge.adapter import QueryAdapter
from knowledge.adapter_training import train_adapter
from knowledge.builder import build_index


def test_zero_adapter_is_identity() -> None:
    q = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    assert np.allclose(QueryAdapter(np.zeros((16, 16), np.float32), "m")(q), q, atol=1e-6)


def test_save_load_and_mismatch(tmp_path: Path) -> None:
    a = QueryAdapter(np.eye(8, dtype=np.float32) * 0.1, "m", {"epochs": 3})
    a.save(tmp_path / "a.npz")
    b = QueryAdapter.load(tmp_path / "a.npz", "m", 8)
    assert b is not None and b.meta == {"epochs": 3} and np.allclose(b.delta, a.delta)
    assert QueryAdapter.load(tmp_path / "a.npz", "other", 8) is None
    assert QueryAdapter.load(tmp_path / "a.npz", "m", 16) is None
    assert QueryAdapter.load(tmp_path / "missing.npz", "m", 8) is None


def test_training_helps_and_retriever_uses_it(small_cfg, fake_embedder, tmp_path: Path) -> None:
    build_index(small_cfg, fake_embedder, progress=False)
    kb = KnowledgeBase.open(small_cfg, fake_embedder)
    qs = [
        ("how much cash can i get out", "debit-cards", "Daily limits"),
        ("money from the machine max", "debit-cards", "Daily limits"),
        ("i misplaced my plastic", "debit-cards", "Lost cards"),
        ("someone nicked my wallet", "debit-cards", "Lost cards"),
        ("what do i earn on my money", "savings", "Interest rates"),
        ("yield on deposits", "savings", "Interest rates"),
        ("taking money out of the saver", "savings", "Withdrawals"),
        ("pulling funds from savings often", "savings", "Withdrawals"),
    ] * 3
    f = tmp_path / "rt.jsonl"
    f.write_text("\n".join(json.dumps({"question": q, "doc": d, "section": s}) for q, d, s in qs))
    out = tmp_path / "adapter.npz"
    meta = train_adapter(
        kb.retriever, [f], out, epochs=40, l2_grid=(1e-3,), temperature_grid=(0.05,), progress=False
    )
    assert meta["val_recall@5_with_adapter"] >= meta["val_recall@5_without_adapter"]
    assert set(meta["val_fusion_recall@5"]) == {"dense", "hybrid_0.25", "hybrid_0.5"}
    adapted = KnowledgeBase.open(small_cfg.with_overrides(query_adapter=str(out)), fake_embedder)
    assert adapted.retriever.adapter is not None
    assert adapted.retrieve("i misplaced my plastic").passages[0].section == "Lost cards"
    q = fake_embedder.encode(["i misplaced my plastic"])
    assert np.allclose(kb.query_view(q), q)  # no adapter: unchanged
    assert np.allclose(adapted.query_view(q), adapted.retriever.adapter(q))
    assert not np.allclose(adapted.query_view(q), q)


def test_explicit_adapter_for_another_model_is_refused(small_cfg, fake_embedder, tmp_path: Path) -> None:
    build_index(small_cfg, fake_embedder, progress=False)
    bad = tmp_path / "a.npz"
    QueryAdapter(np.zeros((384, 384), np.float32), "all-MiniLM-L6-v2").save(bad)
    with pytest.raises(ConfigError, match="train-adapter"):
        KnowledgeBase.open(small_cfg.with_overrides(query_adapter=str(bad)), fake_embedder)
