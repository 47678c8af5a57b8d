"""The generation benchmark runs end to end (tiny settings) and reports every figure it promises."""

from __future__ import annotations

import pytest

from bot.llm.bench import read_bandwidth_gbs, run, summary

pytestmark = pytest.mark.slow


def test_bandwidth_is_measured() -> None:
    assert 0.5 < read_bandwidth_gbs(size_mb=64, runs=2) < 2000


def test_bench_reports_ratios() -> None:
    r = run(n_tokens=4, dtypes=("float32",), requests=4, gap_s=0.05, served_questions=2)
    row = r["dtypes"]["float32"]
    assert 400 < row["weight_mb"] < 700 and row["bandwidth_bound_tokens_per_s"] > 0
    for name in ("grounded", "open"):
        assert row["plain_generate"][name]["tokens_per_s"] > 0 and row["speedup_vs_plain_generate"][name] > 0
        assert row["generate_prompt_lookup"][name]["tokens"] > 0 and 0 <= row["draft_acceptance"][name] <= 1
    assert "grounded prompt: single stream" in summary(r)
    sv = row["served"]
    assert sv["prompts"] == 2 and 0 < sv["engine"]["tokens"] <= 2 * 4 and sv["speedup_vs_plain_generate"] > 0
    assert 0 <= sv["same_text"] <= 2 and "served set (2 serving prompts" in summary(r)
    assert [c["concurrency"] for c in row["concurrent"]] == [1, 4, 16]
    assert row["concurrent"][-1]["tokens"] == 16 * 4
    assert "aggregate tok/s by concurrency" in summary(r)
    st = r["staggered"]
    assert st["requests"] == 4 and st["continuous"]["ttft_s_p50"] > 0 and st["batch_at_a_time"]["wall_s"] > 0
    assert "batch-at-a-time" in summary(r)
