"""Build the assistant from configuration: the knowledge base (built on first use if missing), the
classifiers on the same embedder, the generation backend (lazy: the model loads on first use or
`warm_up()`), and the conversation store. Kept apart from bot/assistant.py so that tests can pass fakes
straight to `Assistant(Parts(...))`."""

from __future__ import annotations

from .assistant import Assistant, Parts
from .config import BotConfig


def build_assistant(cfg: BotConfig | None = None, *, progress: bool = False, warm: bool = False) -> Assistant:
    from knowledge import KnowledgeBase, KnowledgeConfig

    from .classifiers import TurnClassifiers
    from .llm import load_backend
    from .storage import Store

    cfg = cfg or BotConfig.from_env()
    backend = load_backend()
    if hasattr(backend, "confine_threads"):  # the local model on CPU: before anything else runs torch
        backend.confine_threads()
    kb = KnowledgeBase.open(KnowledgeConfig.from_env(), build_if_missing=True, progress=progress)
    classifiers = TurnClassifiers.load(kb.embedder)
    if warm:
        backend.warm_up()
    store = Store(cfg.db_url or None) if cfg.record else None
    return Assistant(Parts(kb, classifiers, backend, store), cfg)
