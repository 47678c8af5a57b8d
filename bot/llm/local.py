"""Generation with transformers in this process: loads lazily (`warm_up()` or first use), CUDA with
bfloat16 when present, CPU float32 otherwise (bfloat16 on request); applies the chat template, streams
tokens from a background thread, honours stop strings, max_new_tokens and greedy (deterministic) or seeded
sampling. One generation at a time per backend (a lock): batching concurrent conversations is a separate
component. This is one of the few modules that imports torch and transformers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .base import (
    BackendError,
    ContextOverflowError,
    GenerationRequest,
    GenerationStats,
    Message,
    StopScanner,
)
from .config import LLMConfig
from .model_files import resolve_model


class TransformersBackend:
    name = "local"

    def __init__(self, cfg: LLMConfig) -> None:
        self.cfg = cfg
        self.model = None
        self.tokenizer = None
        self.path: Path | None = None
        self._load_lock = threading.Lock()
        self._gen_lock = threading.Lock()

    def warm_up(self) -> TransformersBackend:
        with self._load_lock:
            if self.model is not None:
                return self
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            if self.cfg.threads:
                torch.set_num_threads(self.cfg.threads)
            cuda = torch.cuda.is_available() and self.cfg.device in {"auto", "cuda"}
            if self.cfg.device == "cuda" and not cuda:
                raise BackendError("device=cuda requested but no CUDA device is available")
            dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}.get(
                self.cfg.dtype, torch.bfloat16 if cuda else torch.float32
            )
            self.path = resolve_model(self.cfg.model, self.cfg.cache_dir)
            try:
                self.tokenizer = AutoTokenizer.from_pretrained(self.path)
                model = AutoModelForCausalLM.from_pretrained(self.path, dtype=dtype)
            except Exception as exc:
                raise BackendError(
                    f"cannot load the model from {self.path} ({type(exc).__name__}: {exc})"
                ) from exc
            self.model = model.to("cuda" if cuda else "cpu").eval()
        return self

    @property
    def context_window(self) -> int:
        self.warm_up()
        return int(getattr(self.model.config, "max_position_embeddings", 2048))

    def encode(self, messages: Sequence[Message]):
        self.warm_up()
        return self.tokenizer.apply_chat_template(
            list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return int(self.encode(messages)["input_ids"].shape[1])

    def stream(self, request: GenerationRequest, stats: GenerationStats | None = None) -> Iterator[str]:
        import torch
        from transformers import TextIteratorStreamer

        stats = stats if stats is not None else GenerationStats()
        enc = self.encode(request.messages).to(self.model.device)
        n_prompt = int(enc["input_ids"].shape[1])
        stats.prompt_tokens = n_prompt
        if n_prompt + request.max_new_tokens > self.context_window:
            raise ContextOverflowError(n_prompt, request.max_new_tokens, self.context_window)
        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=120
        )
        kwargs = dict(
            **enc,
            max_new_tokens=request.max_new_tokens,
            streamer=streamer,
            pad_token_id=self.tokenizer.eos_token_id,
        )
        if request.temperature > 0:
            kwargs.update(do_sample=True, temperature=request.temperature, top_p=request.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if request.stop:
            kwargs.update(stop_strings=list(request.stop), tokenizer=self.tokenizer)
        errors: list[BaseException] = []
        outputs: list = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    if request.seed is not None:
                        torch.manual_seed(request.seed)
                    outputs.append(self.model.generate(**kwargs))
            except BaseException as exc:  # surfaced to the caller below
                errors.append(exc)
                streamer.end()

        scanner = StopScanner(request.stop)
        start = time.perf_counter()
        with self._gen_lock:
            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            for piece in streamer:
                out = scanner.feed(piece)
                if out:
                    if not stats.time_to_first_token_s:
                        stats.time_to_first_token_s = time.perf_counter() - start
                    yield out
            thread.join()
        tail = scanner.flush()
        if tail:
            yield tail
        if errors:
            raise BackendError(f"generation failed: {type(errors[0]).__name__}: {errors[0]}") from errors[0]
        n_new = int(outputs[0].shape[1] - n_prompt) if outputs else 0
        stats.completion_tokens = n_new
        stats.finish_reason = "length" if n_new >= request.max_new_tokens else "stop"
        stats.total_s = time.perf_counter() - start
