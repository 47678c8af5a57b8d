"""Generation with transformers in this process: loads lazily (`warm_up()` or first use), CUDA with
bfloat16 when present, CPU float32 otherwise (bfloat16, or int8 dynamic quantisation of the linear layers,
on request), merges the LoRA adapter when one is configured; applies the chat template and hands the prompt to the batching engine, which streams tokens,
honours stop strings and max_new_tokens, decodes greedily (deterministic) or samples with a seed, and
serves concurrent conversations in shared batches. This is one of the few modules that imports torch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from .base import BackendError, ContextOverflowError, GenerationRequest, GenerationStats, Message
from .batching import BatchingEngine
from .config import LLMConfig
from .model_files import resolve_model


def merge_adapter(model, path: Path):
    """Apply a LoRA adapter and merge it into the weights (no per-token cost). Raises BackendError with
    the reason when the folder is not an adapter or was trained for another base model."""
    if not (path / "adapter_config.json").is_file():
        raise BackendError(f"{path} is not a LoRA adapter folder (adapter_config.json is missing)")
    try:
        from peft import PeftModel
    except ImportError as exc:
        raise BackendError("applying a LoRA adapter needs the `peft` package (pip install peft)") from exc
    try:
        return PeftModel.from_pretrained(model, str(path)).merge_and_unload()
    except (RuntimeError, ValueError, KeyError) as exc:
        raise BackendError(
            f"the adapter in {path} does not fit the base model {model.config.name_or_path!r} "
            f"(trained for another model?): {str(exc)[:300]}; set BOT_LLM_ADAPTER=none to run without it"
        ) from exc


class TransformersBackend:
    name = "local"

    def __init__(self, cfg: LLMConfig) -> None:
        self.cfg = cfg
        self.model = None
        self.tokenizer = None
        self.path: Path | None = None
        self.engine: BatchingEngine | None = None
        self._load_lock = threading.Lock()
        self.adapter: Path | None = None
        self._system_tokens: dict[str, list[int]] = {}  # system prompt -> its tokens rendered alone

    def confine_threads(self) -> None:
        """On CPU, before the process first runs torch elsewhere (building the knowledge base, embedding):
        keep torch to one thread outside the engine's worker (bot/llm/torch_threads.py)."""
        import torch

        if not self.cfg.confine_threads or (torch.cuda.is_available() and self.cfg.device != "cpu"):
            return
        from .torch_threads import confine

        confine(self.cfg.threads)

    def warm_up(self) -> TransformersBackend:
        with self._load_lock:
            if self.model is not None:
                return self
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            cuda = torch.cuda.is_available() and self.cfg.device in {"auto", "cuda"}
            if self.cfg.device == "cuda" and not cuda:
                raise BackendError("device=cuda requested but no CUDA device is available")
            engine_threads = 0
            if self.cfg.confine_threads and not cuda:
                from .torch_threads import confine

                engine_threads = confine(self.cfg.threads)  # this thread and later ones: one torch thread
            elif self.cfg.threads:
                torch.set_num_threads(self.cfg.threads)
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
            adapter = self.cfg.adapter_path()
            if adapter is not None:
                model = merge_adapter(model, adapter)
            self.adapter = adapter
            model = model.to("cuda" if cuda else "cpu").eval()
            if self.cfg.dtype == "int8":
                from torch.ao.quantization import quantize_dynamic

                model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
            elif self.cfg.onednn_linear and not cuda:
                from .onednn_linear import use_onednn_linear

                use_onednn_linear(model)  # after the adapter merge: the packed weights are a snapshot
            self.model = model
            self.engine = BatchingEngine(
                model,
                self.tokenizer,
                max_batch=self.cfg.max_batch,
                speculate=self.cfg.speculate,
                prefix_cache=self.cfg.prefix_cache,
                threads=engine_threads,
            )
            if engine_threads:  # the worker took its threads; threads started from now on get one
                confine(engine_threads)
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

    def system_prefix(self, messages: Sequence[Message], prompt: list[int]) -> int:
        """How many of `prompt`'s first tokens are the system message as the chat template renders it alone
        (shared by every turn that has the same system prompt), or 0 when there is none or it does not
        render as a prefix."""
        if not messages or messages[0].get("role") != "system":
            return 0
        ids = self._system_ids(messages[0]["content"])
        return len(ids) if len(ids) < len(prompt) and prompt[: len(ids)] == ids else 0

    def _system_ids(self, content: str) -> list[int]:
        ids = self._system_tokens.get(content)
        if ids is None:
            enc = self.tokenizer.apply_chat_template(
                [{"role": "system", "content": content}], return_dict=True
            )
            ids = list(enc["input_ids"])
            if len(self._system_tokens) >= 8:
                self._system_tokens.clear()
            self._system_tokens[content] = ids
        return ids

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return int(self.encode(messages)["input_ids"].shape[1])

    def stream(self, request: GenerationRequest, stats: GenerationStats | None = None) -> Iterator[str]:
        stats = stats if stats is not None else GenerationStats()
        prompt = self.encode(request.messages)["input_ids"][0].tolist()
        if len(prompt) + request.max_new_tokens > self.context_window:
            raise ContextOverflowError(len(prompt), request.max_new_tokens, self.context_window)
        yield from self.engine.submit(
            request, prompt, stats, prefix=self.system_prefix(request.messages, prompt)
        )
