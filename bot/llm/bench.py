"""`python -m bot.llm.bench`: generation speed of the local backend on this machine, next to two
baselines measured in the same run: plain `model.generate` and the memory-bandwidth bound (bytes of
weights read per token vs the machine's measured read bandwidth).

Figures: time to first token and tokens/s for one stream (float32, bfloat16, int8), aggregate tokens/s at
1, 4 and 16 concurrent conversations through the batching engine, and (first dtype) staggered arrivals,
16 requests 0.5 s apart, served with continuous batching vs batch-at-a-time (`join_running=False`) in the
same run. Prints a summary and, with --json, the raw figures. Measures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from typing import Any

import numpy as np

PROMPT = [{"role": "user", "content": "Write a short paragraph about savings accounts and interest rates."}]


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


def plain_generate(model: Any, tokenizer: Any, n: int) -> dict[str, float]:
    import torch

    enc = tokenizer.apply_chat_template(
        PROMPT, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.inference_mode():
        model.generate(**enc, max_new_tokens=4, do_sample=False)
        t = time.perf_counter()
        model.generate(**enc, max_new_tokens=1, do_sample=False)
        ttft = time.perf_counter() - t
        t = time.perf_counter()
        model.generate(**enc, max_new_tokens=n, min_new_tokens=n, do_sample=False)
        dt = time.perf_counter() - t
    return {"ttft_s": round(ttft, 3), "tokens_per_s": round(n / dt, 1)}


def backend_stream(backend: Any, n: int, concurrency: int = 1) -> dict[str, float]:
    from . import GenerationRequest, GenerationStats

    stats = [GenerationStats() for _ in range(concurrency)]
    req = GenerationRequest(PROMPT, max_new_tokens=n)
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
) -> dict[str, Any]:
    import torch

    from .config import LLMConfig
    from .local import TransformersBackend

    bandwidth = read_bandwidth_gbs()
    report: dict[str, Any] = {
        "threads": torch.get_num_threads(),
        "read_bandwidth_gbs": bandwidth,
        "new_tokens": n_tokens,
        "dtypes": {},
    }
    for dtype in dtypes:
        backend = TransformersBackend(LLMConfig(dtype=dtype)).warm_up()
        backend_stream(backend, 8)  # warm-up
        wb = weight_bytes(backend.model)
        bound = bandwidth * 1e9 / wb
        row: dict[str, Any] = {
            "weight_mb": round(wb / 1e6, 1),
            "bandwidth_bound_tokens_per_s": round(bound, 1),
        }
        row["plain_generate"] = plain_generate(backend.model, backend.tokenizer, n_tokens)
        row["single_stream"] = backend_stream(backend, n_tokens)
        row["speedup_vs_plain_generate"] = round(
            row["single_stream"]["per_stream_tokens_per_s"] / row["plain_generate"]["tokens_per_s"], 2
        )
        row["share_of_bandwidth_bound"] = round(row["single_stream"]["per_stream_tokens_per_s"] / bound, 2)
        row["concurrent"] = [backend_stream(backend, n_tokens, c) for c in (1, 4, 16)]
        single = row["concurrent"][0]["aggregate_tokens_per_s"]
        row["aggregate_16_vs_single"] = round(row["concurrent"][-1]["aggregate_tokens_per_s"] / single, 2)
        if dtype == dtypes[0]:
            report["staggered"] = {"dtype": dtype, **staggered(backend, n_tokens, requests, gap_s)}
        report["dtypes"][dtype] = row
        del backend
    return report


def summary(r: dict[str, Any]) -> str:
    lines = [
        f"read bandwidth {r['read_bandwidth_gbs']} GB/s, {r['threads']} threads, {r['new_tokens']} new tokens"
    ]
    for dtype, row in r["dtypes"].items():
        s, p = row["single_stream"], row["plain_generate"]
        lines.append(
            f"{dtype:>8}: weights {row['weight_mb']} MB (bound {row['bandwidth_bound_tokens_per_s']} tok/s) | "
            f"plain generate {p['tokens_per_s']} tok/s, TTFT {p['ttft_s']} s | single stream "
            f"{s['per_stream_tokens_per_s']} tok/s (x{row['speedup_vs_plain_generate']} generate, "
            f"{row['share_of_bandwidth_bound']:.0%} of bound), TTFT {s['ttft_s_median']} s"
        )
        agg = ", ".join(f"{c['concurrency']}: {c['aggregate_tokens_per_s']}" for c in row["concurrent"])
        lines.append(
            f"          aggregate tok/s by concurrency {agg} (16 vs 1: x{row['aggregate_16_vs_single']})"
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
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    r = run(args.tokens, tuple(d for d in args.dtypes.split(",") if d))
    print(json.dumps(r, indent=2) if args.json else summary(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
