"""Generation backends behind one interface (`ChatBackend`): transformers in-process (`local`), any
OpenAI-compatible server (`openai`) and a deterministic `fake` for tests. `load_backend(cfg)` picks one
from configuration; nothing heavy is imported until a backend is used."""

from __future__ import annotations

from .base import (
    BackendError,
    BackendUnavailable,
    ChatBackend,
    ContextOverflowError,
    GenerationRequest,
    GenerationStats,
    StopScanner,
    generate,
)
from .config import LLMConfig, LLMConfigError
from .fake import FakeBackend


def load_backend(cfg: LLMConfig | None = None) -> ChatBackend:
    cfg = cfg or LLMConfig.from_env()
    if cfg.backend == "fake":
        return FakeBackend()
    if cfg.backend == "openai":
        from .openai_http import OpenAICompatibleBackend

        return OpenAICompatibleBackend(cfg)
    from .local import TransformersBackend

    return TransformersBackend(cfg)


__all__ = [
    "BackendError",
    "BackendUnavailable",
    "ChatBackend",
    "ContextOverflowError",
    "FakeBackend",
    "GenerationRequest",
    "GenerationStats",
    "LLMConfig",
    "LLMConfigError",
    "StopScanner",
    "generate",
    "load_backend",
]
