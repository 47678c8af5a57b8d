"""The benchmark runs end to end at a small size and reports every figure the issue names."""

from __future__ import annotations

import pytest

from knowledge import KnowledgeConfig
from knowledge.bench import run_bench, summarise, synthetic

pytestmark = pytest.mark.slow


def test_synthetic_corpus_is_seeded_and_normalised() -> None:
    a, qa = synthetic(2000, n_queries=5)
    b, _ = synthetic(2000, n_queries=5)
    assert a.shape == (2000, 384) and qa.shape == (5, 384)
    assert (a == b).all()
    assert abs(float((a * a).sum(axis=1).mean()) - 1.0) < 1e-4


def test_bench_reports_all_figures(tmp_path) -> None:
    cfg = KnowledgeConfig(index_dir=tmp_path / "index")
    r = run_bench(cfg, sizes=[5000], runs=1, n_queries=20, progress=False)
    assert r["build"]["build_from_scratch_s"] > 0 and r["build"]["rebuild_embedded_chunks"] >= 1
    assert r["build"]["rebuild_one_changed_doc_s"] < r["build"]["build_from_scratch_s"]
    for mode in ("dense", "hybrid"):
        assert (
            r["sample_query"][mode]["embed_plus_search_ms_p95"]
            >= r["sample_query"][mode]["embed_plus_search_ms_p50"]
        )
    for kind in ("flat", "ivf", "hnsw"):
        s = r[f"synthetic_5000_{kind}"]
        assert "error" not in s, s
        assert s["peak_rss_mb"] > 0 and s["search_ms_p50"] > 0
    assert 0.5 < r["synthetic_5000_hnsw"]["recall@10_vs_flat"] <= 1.0
    assert 0.5 < r["synthetic_5000_ivf"]["recall@10_vs_flat"] <= 1.0
    assert "rebuild after one change" in summarise(r)
