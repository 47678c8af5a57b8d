"""Benchmarks for the knowledge base, each scenario in its own process so that its peak memory
(ru_maxrss) is its own:

- build: index the sample library from scratch; rebuild after one document changes (median of runs);
- query: embedding + search latency p50/p95 over the evaluation questions at the sample size;
- synthetic: corpora of N clustered unit vectors (default 100,000 and 1,000,000): exact flat search vs
  approximate IVF (and HNSW at sizes where its build fits the time budget), search-only and
  embedding + search latency, build time, and recall@10 of the approximate index against flat.

Synthetic vectors come from a seeded Gaussian mixture on the unit sphere; recall is measured with
queries drawn from the same mixture. This module prints figures; it asserts nothing.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .config import DEFAULT_EVAL_FILE, KnowledgeConfig

HNSW_MAX = 200_000  # HNSW inserts cost ~minutes per million on 2 cores: skip above this size


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3)


def _child(fn: Callable[..., dict], args: tuple, queue: mp.Queue) -> None:
    try:
        out = fn(*args)
        out["peak_rss_mb"] = _peak_mb()
        queue.put(out)
    except Exception as exc:  # report, don't hang the parent
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def _isolated(fn: Callable[..., dict], *args: Any) -> dict:
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def _questions(n: int) -> list[str]:
    from .evaluation import load_questions

    qs = [q.question for q in load_questions(DEFAULT_EVAL_FILE)]
    return (qs * (n // max(1, len(qs)) + 1))[:n]


def bench_build(cfg: KnowledgeConfig, runs: int) -> dict:
    from .builder import build_index
    from .embeddings import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder(cfg.resolved_embedding_model()).warm_up()
    work = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    try:
        docs = work / "docs"
        shutil.copytree(cfg.docs_dir, docs)
        local = cfg.with_overrides(docs_dir=docs, index_dir=work / "index")
        scratch, rebuild = [], []
        report = None
        for _ in range(runs):
            t = time.perf_counter()
            report = build_index(local, emb, full=True, progress=False)
            scratch.append(time.perf_counter() - t)
        target = sorted(docs.glob("*.md"))[0]
        for r in range(runs):
            with target.open("a", encoding="utf-8") as f:
                f.write(f"\nBenchmark edit {r}: this paragraph was appended to change the document.\n")
            t = time.perf_counter()
            rep2 = build_index(local, emb, progress=False)
            rebuild.append(time.perf_counter() - t)
            assert rep2.updated == [target.stem], rep2.updated
        return {
            "documents": report.documents,
            "chunks": report.chunks,
            "build_from_scratch_s": round(statistics.median(scratch), 2),
            "rebuild_one_changed_doc_s": round(statistics.median(rebuild), 2),
            "rebuild_embedded_chunks": rep2.embedded_chunks,
            "runs": runs,
            "speedup": round(statistics.median(scratch) / statistics.median(rebuild), 1),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_sample_query(cfg: KnowledgeConfig, n_queries: int) -> dict:
    from .api import KnowledgeBase

    kb = KnowledgeBase.open(cfg, build_if_missing=True)
    qs = _questions(n_queries)
    kb.retrieve(qs[0])  # warm up
    out: dict[str, Any] = {"chunks": len(kb.retriever.chunks), "queries": len(qs)}
    for mode in ("dense", "hybrid"):
        embed, total = [], []
        for q in qs:
            res = kb.retrieve(q, hybrid=(mode == "hybrid"))
            embed.append(res.timings_ms["embed_ms"])
            total.append(res.timings_ms["total_ms"])
        search = [t - e for t, e in zip(total, embed, strict=True)]
        out[mode] = {
            "embed_plus_search_ms_p50": _pct(total, 50),
            "embed_plus_search_ms_p95": _pct(total, 95),
            "search_ms_p50": _pct(search, 50),
            "search_ms_p95": _pct(search, 95),
        }
    return out


def synthetic(n: int, dim: int = 384, seed: int = 0, n_queries: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Seeded Gaussian mixture on the unit sphere: ~250 points per cluster, cosine ~0.7 to their centre."""
    rng = np.random.default_rng(seed)
    n_clusters = max(1, n // 250)
    centres = rng.standard_normal((n_clusters, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = 1.0 / np.sqrt(dim)

    def draw(m: int) -> np.ndarray:
        out = np.empty((m, dim), dtype=np.float32)
        for s in range(0, m, 100_000):
            e = min(m, s + 100_000)
            x = (
                centres[rng.integers(0, n_clusters, e - s)]
                + rng.standard_normal((e - s, dim), dtype=np.float32) * noise
            )
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            out[s:e] = x
        return out

    return draw(n), draw(n_queries)


def bench_synthetic(n: int, kind: str, n_queries: int, truth_path: str, model_path: str) -> dict:
    from . import faiss_index
    from .embeddings import SentenceTransformerEmbedder

    corpus, queries = synthetic(n, n_queries=n_queries)
    t = time.perf_counter()
    index = faiss_index.build(corpus, kind)
    build_s = time.perf_counter() - t
    del corpus
    lat, ids = [], []
    for q in queries:
        t = time.perf_counter()
        _, i = faiss_index.search(index, q, 10)
        lat.append((time.perf_counter() - t) * 1e3)
        ids.append(i[0])
    found = np.array(ids)
    out: dict[str, Any] = {
        "n": n,
        "kind": kind,
        "build_s": round(build_s, 2),
        "search_ms_p50": _pct(lat, 50),
        "search_ms_p95": _pct(lat, 95),
    }
    if kind == "flat":
        np.save(truth_path, found)
    else:
        truth = np.load(truth_path)
        out["recall@10_vs_flat"] = round(
            float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])), 4
        )
    emb = SentenceTransformerEmbedder(model_path).warm_up()
    texts = _questions(min(n_queries, 100))
    emb.encode(texts[:2])
    both = []
    for text in texts:
        t = time.perf_counter()
        faiss_index.search(index, emb.encode([text])[0], 10)
        both.append((time.perf_counter() - t) * 1e3)
    out["embed_plus_search_ms_p50"] = _pct(both, 50)
    out["embed_plus_search_ms_p95"] = _pct(both, 95)
    return out


def run_bench(
    cfg: KnowledgeConfig, sizes: list[int], runs: int = 3, n_queries: int = 200, progress: bool = True
) -> dict:
    from tqdm.auto import tqdm

    model = cfg.resolved_embedding_model()
    plan: list[tuple[str, Callable[..., dict], tuple]] = [
        ("build", bench_build, (cfg, runs)),
        ("sample_query", bench_sample_query, (cfg, n_queries)),
    ]
    tmp = Path(tempfile.mkdtemp(prefix="kb-bench-truth-"))
    for n in sizes:
        truth = str(tmp / f"truth-{n}.npy")
        kinds = ["flat", "ivf"] + (["hnsw"] if n <= HNSW_MAX else [])
        plan += [(f"synthetic_{n}_{k}", bench_synthetic, (n, k, n_queries, truth, model)) for k in kinds]
    results: dict[str, Any] = {"machine": _machine()}
    bar = tqdm(plan, desc="Benchmarks", disable=not progress)
    for name, fn, args in bar:
        bar.set_postfix_str(name)
        results[name] = _isolated(fn, *args)
    shutil.rmtree(tmp, ignore_errors=True)
    if progress:
        print(summarise(results))
    return results


def _machine() -> dict:
    import os
    import platform

    import faiss

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "faiss": faiss.__version__,
        "platform": platform.platform(),
    }


def summarise(results: dict) -> str:
    lines = ["", "Benchmark summary"]
    b = results.get("build", {})
    if "error" not in b:
        lines.append(
            f"  build from scratch {b['build_from_scratch_s']}s ({b['documents']} docs, {b['chunks']} chunks), "
            f"rebuild after one change {b['rebuild_one_changed_doc_s']}s (x{b['speedup']}), "
            f"peak {b['peak_rss_mb']} MB"
        )
    q = results.get("sample_query", {})
    if "error" not in q:
        for mode in ("dense", "hybrid"):
            m = q[mode]
            lines.append(
                f"  sample {mode}: embed+search p50 {m['embed_plus_search_ms_p50']} ms, "
                f"p95 {m['embed_plus_search_ms_p95']} ms (search p50 {m['search_ms_p50']} ms), "
                f"peak {q['peak_rss_mb']} MB"
            )
    for key, r in results.items():
        if key.startswith("synthetic_"):
            if "error" in r:
                lines.append(f"  {key}: ERROR {r['error']}")
                continue
            rec = f", recall@10 {r['recall@10_vs_flat']}" if "recall@10_vs_flat" in r else ""
            lines.append(
                f"  {r['n']:>9,} {r['kind']:<4}: build {r['build_s']}s, search p50 {r['search_ms_p50']} ms "
                f"p95 {r['search_ms_p95']} ms, embed+search p50 {r['embed_plus_search_ms_p50']} ms "
                f"p95 {r['embed_plus_search_ms_p95']} ms{rec}, peak {r['peak_rss_mb']} MB"
            )
    return "\n".join(lines)
