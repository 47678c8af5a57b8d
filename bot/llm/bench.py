"""`python -m bot.llm.bench`: generation speed of the local backend on this machine, next to two
baselines measured in the same run: plain `model.generate` and the memory-bandwidth bound (bytes of
weights read per token vs the machine's measured read bandwidth).

Two prompts: `grounded`, what the assistant sends (the serving system prompt, three focused passages from
the sample library, a question), and `open`, a question with no passages ("write a paragraph about ...").
Both the engine and `model.generate` decode greedily until the end of the reply (at most --tokens), so they
write the same text and their tokens/s compare directly; `model.generate(prompt_lookup_num_tokens=...)`,
transformers' own prompt-lookup decoding, is a third reference. The engine drafts by prompt lookup when one
conversation decodes alone (`BOT_LLM_SPECULATE`, bot/llm/batching.py): it pays off when the reply quotes
the prompt, as grounded replies do. It also reuses the system prompt's keys and values, computed once
(warm-up), so its prefill reads the rest of the prompt only; the engine is timed without that cache as well.

Figures: time to first token and tokens/s for one stream (float32, bfloat16, int8) per prompt, over the
whole reply and after the first token (prefill left out); aggregate tokens/s at 1, 4 and 16 concurrent
conversations (open prompt, each to the end of its reply or --tokens); and (first dtype) staggered
arrivals, 16 requests 0.5 s apart, served with continuous batching vs batch-at-a-time
(`join_running=False`) in the same run; and the served set (bot/llm/bench_served.py): engine vs plain
generate over 12 prompts the assistant really sends, back to back per prompt. Prints a summary and, with
--json, the raw figures. Measures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from functools import partial
from typing import Any

import numpy as np

from .bench_served import SERVED_QUESTIONS, on_engine_thread, served, served_prompts

PROMPT = [{"role": "user", "content": "Write a short paragraph about savings accounts and interest rates."}]
GROUNDED_QUESTION = "How much is the monthly fee on Everyday Checking, and how do I avoid it?"
# The three focused passages the assistant shows for GROUNDED_QUESTION (sample library, verbatim).
GROUNDED_PASSAGES = (
    (
        "Checking accounts",
        "Everyday Checking monthly fee and how to avoid it",
        "Everyday Checking has a $5 monthly fee.\nThe minimum deposit to open Everyday Checking is $25.\n"
        "Everyday Checking does not earn interest.",
    ),
    (
        "Fee schedule",
        "Checking account fees",
        "Monthly fee: Everyday Checking: $5; Premier Checking: $25\nWays to waive the Everyday Checking $5 "
        "monthly fee (you only need one per statement cycle): $500 or more in direct deposits; A minimum daily "
        "balance of $1,500; The account holder is aged 17 to 24.\nWay to waive the Premier Checking $25 monthly "
        "fee: keep a combined average monthly balance of $10,000 or more across your Fernhollow deposit "
        "accounts.",
    ),
    (
        "Fee schedule",
        "Other account service fees",
        "Cashier's check: $10 (free when closing an account)\nPaper statements: $2 per month (free for "
        "customers aged 65+ or with accessibility needs)\nAccount research: $25 per hour",
    ),
)


def grounded_passages() -> list[Any]:
    """GROUNDED_PASSAGES as passages the serving prompt builder takes (title, section, text)."""
    from types import SimpleNamespace

    return [SimpleNamespace(title=t, section=s, text=x) for t, s, x in GROUNDED_PASSAGES]


def prompts() -> dict[str, list[dict[str, str]]]:
    """The benchmark's prompts: `grounded` (as the assistant builds it) and `open`."""
    from ..prompts import build_messages

    return {"grounded": build_messages(GROUNDED_QUESTION, grounded_passages()), "open": PROMPT}


def read_bandwidth_gbs(size_mb: int = 1024, runs: int = 5) -> float:
    a = np.ones(size_mb * 1024 * 1024 // 8, dtype=np.float64)
    a.sum()
    best = min(_timed(a.sum) for _ in range(runs))
    return round(a.nbytes / best / 1e9, 2)


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def weight_bytes(model: Any) -> int:
    """Bytes read per decoded token: every parameter and quantised weight once."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    for m in model.modules():  # dynamic int8 linears keep packed weights outside parameters()
        if hasattr(m, "_packed_params") and callable(getattr(m, "weight", None)):
            w = m.weight()
            total += w.numel() * w.element_size()
    return int(total)


def plain_generate(
    model: Any, tokenizer: Any, n: int, messages: list[dict[str, str]] = PROMPT, lookup: int = 0
) -> dict[str, float]:
    """Greedy `model.generate` until the end of the reply or `n` tokens; `lookup` > 0 turns on
    transformers' prompt-lookup decoding with that many drafted tokens."""
    import torch

    enc = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    extra = {"prompt_lookup_num_tokens": lookup} if lookup else {}
    with torch.inference_mode():
        model.generate(**enc, max_new_tokens=4, do_sample=False)
        t = time.perf_counter()
        model.generate(**enc, max_new_tokens=1, do_sample=False)
        ttft = time.perf_counter() - t
        t = time.perf_counter()
        out = model.generate(**enc, max_new_tokens=n, do_sample=False, **extra)
        dt = time.perf_counter() - t
    tokens = int(out.shape[1] - enc["input_ids"].shape[1])
    return {
        "ttft_s": round(ttft, 3),
        "tokens": tokens,
        "tokens_per_s": round(tokens / dt, 1),
        "decode_tokens_per_s": round((tokens - 1) / max(dt - ttft, 1e-6), 1),
    }


def backend_stream(
    backend: Any, n: int, concurrency: int = 1, messages: list[dict[str, str]] = PROMPT
) -> dict[str, float]:
    from . import GenerationRequest, GenerationStats

    stats = [GenerationStats() for _ in range(concurrency)]
    req = GenerationRequest(messages, max_new_tokens=n)
    barrier = threading.Barrier(concurrency)

    def run(i: int) -> None:
        barrier.wait()
        for _ in backend.stream(req, stats[i]):
            pass

    threads = [threading.Thread(target=run, args=(i,)) for i in range(concurrency)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    tokens = sum(s.completion_tokens for s in stats)
    return {
        "concurrency": concurrency,
        "tokens": tokens,
        "aggregate_tokens_per_s": round(tokens / wall, 1),
        "ttft_s_median": round(statistics.median(s.time_to_first_token_s for s in stats), 3),
        "per_stream_tokens_per_s": round(
            statistics.median(s.completion_tokens / s.total_s for s in stats), 1
        ),
        "decode_tokens_per_s": round(  # after the first token: prefill left out
            statistics.median(
                (s.completion_tokens - 1) / max(s.total_s - s.time_to_first_token_s, 1e-6) for s in stats
            ),
            1,
        ),
    }


def staggered(backend: Any, n_tokens: int, requests: int = 16, gap_s: float = 0.5) -> dict[str, Any]:
    """Requests arriving `gap_s` apart: time to first token and per-request time, continuous batching vs
    batch-at-a-time, on the same loaded model."""
    from .base import GenerationRequest, GenerationStats
    from .batching import BatchingEngine

    def one_mode(join: bool) -> dict[str, float]:
        engine = BatchingEngine(backend.model, backend.tokenizer, max_batch=16, join_running=join)
        ttft: list[float] = []
        total: list[float] = []

        def one(i: int) -> None:
            msgs = [{"role": "user", "content": f"Question {i}: what does a savings account pay?"}]
            prompt = backend.encode(msgs)["input_ids"][0].tolist()
            stats, t0 = GenerationStats(), time.perf_counter()
            for _ in engine.submit(GenerationRequest(msgs, max_new_tokens=n_tokens), prompt, stats):
                pass
            ttft.append(stats.time_to_first_token_s)
            total.append(time.perf_counter() - t0)

        threads, t0 = [], time.perf_counter()
        for i in range(requests):
            threads.append(threading.Thread(target=one, args=(i,)))
            threads[-1].start()
            time.sleep(gap_s)
        for t in threads:
            t.join()
        engine.close()
        s = sorted(ttft)
        return {
            "ttft_s_p50": round(statistics.median(s), 3),
            "ttft_s_p95": round(s[min(len(s) - 1, int(0.95 * (len(s) - 1) + 0.5))], 3),
            "request_s_p50": round(statistics.median(total), 3),
            "wall_s": round(time.perf_counter() - t0, 2),
        }

    cont, batch = one_mode(True), one_mode(False)
    return {
        "requests": requests,
        "gap_s": gap_s,
        "continuous": cont,
        "batch_at_a_time": batch,
        "ttft_p50_ratio": round(batch["ttft_s_p50"] / max(cont["ttft_s_p50"], 1e-6), 1),
    }


def run(
    n_tokens: int = 64,
    dtypes: tuple[str, ...] = ("float32", "bfloat16", "int8"),
    requests: int = 16,
    gap_s: float = 0.5,
    served_questions: int = SERVED_QUESTIONS,
) -> dict[str, Any]:

    from .config import LLMConfig
    from .local import TransformersBackend
    from .onednn_linear import onednn_layers, stock_linear
    from .torch_threads import confine

    threads = confine()  # before the served set's retrieval runs torch: only the engine's worker holds a team
    served_set = served_prompts(served_questions) if served_questions > 0 else []
    bandwidth = read_bandwidth_gbs()
    report: dict[str, Any] = {
        "threads": threads,
        "read_bandwidth_gbs": bandwidth,
        "new_tokens": n_tokens,
        "dtypes": {},
    }
    for dtype in dtypes:
        backend = TransformersBackend(LLMConfig(dtype=dtype)).warm_up()
        for messages in (PROMPT, prompts()["grounded"]):  # warm-up; keeps the system prompt's keys and values
            backend_stream(backend, 8, messages=messages)
        wb = weight_bytes(backend.model)
        bound = bandwidth * 1e9 / wb
        row: dict[str, Any] = {
            "weight_mb": round(wb / 1e6, 1),
            "bandwidth_bound_tokens_per_s": round(bound, 1),
        }
        for key in (
            "plain_generate",
            "generate_prompt_lookup",
            "single_stream",
            "single_stream_no_prefix_cache",
            "speedup_vs_plain_generate",
            "share_of_bandwidth_bound",
            "draft_acceptance",
        ):
            row[key] = {}  # one entry per prompt
        packed = bool(onednn_layers(backend.model))
        if packed:
            row["plain_generate_onednn_linear"] = {}
            row["single_stream_stock_linear"] = {}
        model, tok, lookup = backend.model, backend.tokenizer, backend.cfg.speculate or 16
        for name, messages in prompts().items():
            plain = partial(plain_generate, model, tok, n_tokens, messages)
            row["plain_generate"][name] = on_engine_thread(backend, plain)
            row["generate_prompt_lookup"][name] = on_engine_thread(backend, partial(plain, lookup=lookup))
            if packed:  # oneDNN's linear alone under plain generate, and the engine alone without it
                row["plain_generate_onednn_linear"][name] = on_engine_thread(backend, plain, stock=False)
                with stock_linear(model):
                    row["single_stream_stock_linear"][name] = backend_stream(
                        backend, n_tokens, messages=messages
                    )
            engine = backend.engine
            drafted, accepted = engine.drafted, engine.accepted
            single = row["single_stream"][name] = backend_stream(backend, n_tokens, messages=messages)
            tps = single["per_stream_tokens_per_s"]
            row["speedup_vs_plain_generate"][name] = round(
                tps / row["plain_generate"][name]["tokens_per_s"], 2
            )
            row["share_of_bandwidth_bound"][name] = round(tps / bound, 2)
            kept, engine.prefixes = engine.prefixes, None  # the same run without the system-prompt cache
            row["single_stream_no_prefix_cache"][name] = backend_stream(backend, n_tokens, messages=messages)
            engine.prefixes = kept
            row["draft_acceptance"][name] = round(
                (engine.accepted - accepted) / max(1, engine.drafted - drafted), 2
            )
        if served_set:
            row["served"] = served(backend, served_set, n_tokens)
        row["concurrent"] = [backend_stream(backend, n_tokens, c) for c in (1, 4, 16)]
        single = row["concurrent"][0]["aggregate_tokens_per_s"]
        row["aggregate_16_vs_single"] = round(row["concurrent"][-1]["aggregate_tokens_per_s"] / single, 2)
        if packed:  # the engine's scaling on torch's own kernels
            with stock_linear(backend.model):
                row["concurrent_stock_linear"] = [backend_stream(backend, n_tokens, c) for c in (1, 16)]
            one, many = (c["aggregate_tokens_per_s"] for c in row["concurrent_stock_linear"])
            row["aggregate_16_vs_single_stock_linear"] = round(many / one, 2)
        if dtype == dtypes[0]:
            report["staggered"] = {"dtype": dtype, **staggered(backend, n_tokens, requests, gap_s)}
        report["dtypes"][dtype] = row
        if backend.engine is not None:
            backend.engine.close()
        del backend
    return report


def summary(r: dict[str, Any]) -> str:
    lines = [
        f"read bandwidth {r['read_bandwidth_gbs']} GB/s, {r['threads']} threads, {r['new_tokens']} new tokens"
    ]
    for dtype, row in r["dtypes"].items():
        lines.append(
            f"{dtype:>8}: weights {row['weight_mb']} MB (bandwidth bound {row['bandwidth_bound_tokens_per_s']} tok/s)"
        )
        for name, s in row["single_stream"].items():
            p, pl = row["plain_generate"][name], row["generate_prompt_lookup"][name]
            lines.append(
                f"          {name:>8} prompt: single stream {s['per_stream_tokens_per_s']} tok/s "
                f"(x{row['speedup_vs_plain_generate'][name]} plain generate {p['tokens_per_s']} tok/s; "
                f"generate with prompt lookup {pl['tokens_per_s']} tok/s; "
                f"{row['share_of_bandwidth_bound'][name]:.0%} of bound; drafts accepted "
                f"{row['draft_acceptance'][name]:.0%}), TTFT {s['ttft_s_median']} s vs {p['ttft_s']} s"
            )
            if "plain_generate_onednn_linear" in row:
                lines.append(
                    f"                    oneDNN linear alone: plain generate "
                    f"{row['plain_generate_onednn_linear'][name]['tokens_per_s']} tok/s; engine alone (torch's "
                    f"linear): {row['single_stream_stock_linear'][name]['per_stream_tokens_per_s']} tok/s"
                )
            n = row["single_stream_no_prefix_cache"][name]
            lines.append(
                f"                    after the first token {s['decode_tokens_per_s']} vs {p['decode_tokens_per_s']} "
                f"tok/s; engine without the system-prompt cache {n['per_stream_tokens_per_s']} tok/s, "
                f"TTFT {n['ttft_s_median']} s"
            )
        if "served" in row:
            sv = row["served"]
            lines.append(
                f"          served set ({sv['prompts']} serving prompts, one stream): engine "
                f"{sv['engine']['tokens_per_s']} tok/s vs plain generate {sv['plain_generate']['tokens_per_s']} "
                f"tok/s (x{sv['speedup_vs_plain_generate']}; same text {sv['same_text']}/{sv['prompts']})"
            )
        agg = ", ".join(f"{c['concurrency']}: {c['aggregate_tokens_per_s']}" for c in row["concurrent"])
        lines.append(
            f"          aggregate tok/s by concurrency {agg} (16 vs 1: x{row['aggregate_16_vs_single']})"
        )
        if "concurrent_stock_linear" in row:
            agg = ", ".join(
                f"{c['concurrency']}: {c['aggregate_tokens_per_s']}" for c in row["concurrent_stock_linear"]
            )
            lines.append(
                f"          with torch's linear: {agg} (16 vs 1: x{row['aggregate_16_vs_single_stock_linear']})"
            )
    if "staggered" in r:
        st = r["staggered"]
        c, b = st["continuous"], st["batch_at_a_time"]
        lines.append(
            f"staggered ({st['requests']} requests {st['gap_s']} s apart, {st['dtype']}): time to first token "
            f"p50/p95 {c['ttft_s_p50']}/{c['ttft_s_p95']} s continuous vs {b['ttft_s_p50']}/{b['ttft_s_p95']} s "
            f"batch-at-a-time (x{st['ttft_p50_ratio']}); request p50 {c['request_s_p50']} vs {b['request_s_p50']} s"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bot.llm.bench", description=__doc__.splitlines()[0])
    p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--dtypes", default="float32,bfloat16,int8")
    p.add_argument(
        "--served", type=int, default=SERVED_QUESTIONS, help="serving prompts in the served set (0 = skip it)"
    )
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    r = run(args.tokens, tuple(d for d in args.dtypes.split(",") if d), served_questions=args.served)
    print(json.dumps(r, indent=2) if args.json else summary(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
