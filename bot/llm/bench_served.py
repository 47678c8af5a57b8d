"""The generation benchmark's served set: single-stream speed on the prompts the assistant really sends.

One hand-picked prompt (bot/llm/bench.py `grounded`) is a sample of one, and on this shared 2-core machine
a single timing of it moves by 15% from run to run. This set is `SERVED_QUESTIONS` training questions
(knowledge/eval/retrieval_train.jsonl, first rows: never an evaluation set), each with the passages the
assistant would show it (the real retriever, top `DEFAULT_PASSAGES`, focused on their best sentences, or
"(no passages found)" when the scope model stops the question), built with the serving prompt. For each
prompt, plain greedy `model.generate` and the engine (`backend.stream`, one conversation alone, so it drafts
by prompt lookup) run back to back, so drift on the machine touches both alike. Reported: total tokens and
seconds of each (prefill included), tokens/s, the engine's ratio, and how many replies are the same text.
Measures; asserts nothing; imports the knowledge base only through its public API.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

SERVED_QUESTIONS = 12
QUESTIONS_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "eval" / "retrieval_train.jsonl"


def served_prompts(n: int = SERVED_QUESTIONS) -> list[list[dict[str, str]]]:
    """The first `n` training questions as the assistant would prompt the model for them."""
    from knowledge import KnowledgeBase, KnowledgeConfig

    from ..extractive import CachedEncoder, focus_passages
    from ..prompts import DEFAULT_PASSAGES, build_messages

    with open(QUESTIONS_FILE, encoding="utf-8") as fh:
        questions = [json.loads(line)["question"] for line in fh if line.strip()][:n]
    kb = KnowledgeBase.open(KnowledgeConfig.from_env(), build_if_missing=True, progress=False)
    encode = CachedEncoder(kb.embedder.encode)
    out = []
    for q in questions:
        res = kb.retrieve(q, k=DEFAULT_PASSAGES)
        passages = res.passages[:DEFAULT_PASSAGES] if res.answerable else []
        out.append(build_messages(q, focus_passages(q, passages, encode)))
    return out


def on_engine_thread(backend: Any, fn: Any, stock: bool = True) -> Any:
    """`fn()` run on the engine's worker thread, where the engine runs (bot/llm/torch_threads.py): the
    benchmark's baselines see the same threads as the engine; `stock` = on torch's own linear kernels."""
    from .onednn_linear import stock_linear

    def go() -> Any:
        if not stock:
            return fn()
        with stock_linear(backend.model):
            return fn()

    return backend.engine.call(go)


def served(backend: Any, prompts: list[list[dict[str, str]]], n_tokens: int) -> dict[str, Any]:
    """Plain `model.generate` and the engine on each prompt in turn, greedy, at most `n_tokens` each."""
    import torch

    from .base import GenerationRequest, GenerationStats

    model, tok = backend.model, backend.tokenizer
    plain_s = engine_s = 0.0
    plain_tokens = engine_tokens = same = 0
    for messages in prompts:
        enc = tok.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )

        def plain(enc=enc):
            with torch.inference_mode():
                t = time.perf_counter()
                out = model.generate(**enc, max_new_tokens=n_tokens, do_sample=False)
                return out, time.perf_counter() - t

        out, seconds = on_engine_thread(backend, plain)
        plain_s += seconds
        new = out[0, enc["input_ids"].shape[1] :]
        plain_tokens += int(new.shape[0])
        stats = GenerationStats()
        t = time.perf_counter()
        text = "".join(backend.stream(GenerationRequest(messages, max_new_tokens=n_tokens), stats))
        engine_s += time.perf_counter() - t
        engine_tokens += stats.completion_tokens
        same += text.strip() == tok.decode(new, skip_special_tokens=True).strip()
    plain_tps = plain_tokens / max(plain_s, 1e-9)
    engine_tps = engine_tokens / max(engine_s, 1e-9)
    return {
        "prompts": len(prompts),
        "plain_generate": {
            "tokens": plain_tokens,
            "seconds": round(plain_s, 2),
            "tokens_per_s": round(plain_tps, 1),
        },
        "engine": {
            "tokens": engine_tokens,
            "seconds": round(engine_s, 2),
            "tokens_per_s": round(engine_tps, 1),
        },
        "speedup_vs_plain_generate": round(engine_tps / max(plain_tps, 1e-9), 2),
        "same_text": same,
    }
