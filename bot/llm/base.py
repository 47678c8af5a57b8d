"""The generation interface every backend implements, the request it takes, and the errors it raises.

A backend turns chat messages into streamed text. Prompt construction (persona, passages, history and
its truncation) belongs to the turn pipeline; a backend refuses a prompt that does not fit its context
window with `ContextOverflowError` instead of silently cutting it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
MAX_COPY_BIAS = 100.0  # a logit bonus beyond this is a typo, not a setting


@dataclass(frozen=True)
class GenerationRequest:
    messages: Sequence[Message]
    max_new_tokens: int = 256
    temperature: float = 0.0  # 0 = greedy, deterministic
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    # Added to the logit of every token that, somewhere in the prompt, follows the last two tokens generated:
    # favours copying the passages' wording (figures, names) exactly once a copy has begun. 0 = off.
    # Local backend only; an OpenAI-compatible server ignores it.
    copy_bias: float = 0.0

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValueError("a generation request needs at least one message")
        for m in self.messages:
            if m.get("role") not in {"system", "user", "assistant"} or not isinstance(m.get("content"), str):
                raise ValueError(f"bad message {m!r}: need role system|user|assistant and string content")
        if not 1 <= self.max_new_tokens <= 8192:
            raise ValueError("max_new_tokens must be within 1..8192")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if not 0.0 <= self.copy_bias <= MAX_COPY_BIAS:
            raise ValueError(f"copy_bias must be within 0..{MAX_COPY_BIAS:g} (0 = off)")


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    time_to_first_token_s: float = 0.0
    total_s: float = 0.0
    finish_reason: str = "stop"  # stop | length | error
    extra: dict[str, float] = field(default_factory=dict)


class BackendError(RuntimeError):
    """Generation failed; the message says why and what to check."""


class BackendUnavailable(BackendError):
    """The backend cannot be reached or loaded (model file missing, server down)."""


class ContextOverflowError(BackendError):
    """The prompt plus max_new_tokens exceeds the model's context window."""

    def __init__(self, prompt_tokens: int, max_new_tokens: int, context: int) -> None:
        super().__init__(
            f"prompt of {prompt_tokens} tokens + {max_new_tokens} new tokens exceeds the context window "
            f"of {context}; shorten the history (oldest first) or the passages"
        )
        self.prompt_tokens, self.max_new_tokens, self.context = prompt_tokens, max_new_tokens, context


@runtime_checkable
class ChatBackend(Protocol):
    name: str

    @property
    def context_window(self) -> int: ...

    def warm_up(self) -> ChatBackend: ...

    def stream(self, request: GenerationRequest, stats: GenerationStats | None = None) -> Iterator[str]: ...

    def count_tokens(self, messages: Sequence[Message]) -> int: ...


def generate(backend: ChatBackend, request: GenerationRequest, stats: GenerationStats | None = None) -> str:
    """The whole reply at once (joins the stream)."""
    return "".join(backend.stream(request, stats))


class StopScanner:
    """Cuts a token stream at the first stop string, holding back just enough text to catch a stop string
    split across tokens."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self.keep = max((len(s) for s in self.stops), default=1) - 1
        self.buffer = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self.buffer += piece
        hits = [i for i in (self.buffer.find(s) for s in self.stops) if i >= 0]
        if hits:
            self.stopped = True
            out, self.buffer = self.buffer[: min(hits)], ""
            return out
        if len(self.buffer) <= self.keep:
            return ""
        cut = len(self.buffer) - self.keep
        out, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return out

    def flush(self) -> str:
        out, self.buffer = ("" if self.stopped else self.buffer), ""
        return out
