"""`python -m finetune eval [--json]`: the base LM against the fine-tuned one (base + committed adapter) on
questions about documents held out of fine-tuning, with the same retrieval and the same prompt as the
assistant serves: the top passages focused on their best sentences, and "(no passages found)" when the
retrieval's scope model says the library does not answer. Because that gate decides most unanswerable
questions before the model does, `unanswerable_declined_passages_shown` also reports the model alone: every
unanswerable question asked with its top passages shown.

For each model: gold-fact rate (answerable questions whose reply contains every gold fact), hallucinated
figures (figures in replies that neither the passages nor the question contain: share of figures and
share of replies), citation rate and accuracy (a cited passage contains the gold facts), correct "don't
know" on unanswerable questions (and false "don't know" on answerable ones), and perplexity of reference
answers on the held-out documents (finetune/out/sft-data/heldout_rows.jsonl). Replies are generated
greedily (`--copy-bias B` adds the assistant's copy bonus to both models' decoding, bot/prompts.py
COPY_BIAS), in concurrent batches through the backend's batching engine, and kept in
finetune/out/eval-cache/ keyed by model, adapter weights, prompts and token limit, so re-evaluating a new
adapter does not regenerate the unchanged base model's replies (`--no-cache` regenerates everything).

It measures the language model alone: the output guard that removes unsupported figures in the product
is not applied here (bot.eval measures the whole turn).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from bot.extractive import CachedEncoder, focus_passages
from bot.guards.grounding import citations, contains_fact, figures, unsupported_figures
from bot.prompts import DEFAULT_PASSAGES, FOCUS_SENTENCES, build_messages, says_dont_know

from .data import DEFAULT_OUT, read_jsonl

MAX_NEW_TOKENS = 96
CACHE_DIR = DEFAULT_OUT.parent / "eval-cache"
PERPLEXITY_ROWS = 100  # reference answers scored for perplexity (first N of heldout_rows.jsonl)
TARGETS = {
    "gold_fact_gain_points": 25.0,
    "hallucinated_figures_ratio_max": 1 / 3,
    "unanswerable_declined_min": 0.80,
}
declined = says_dont_know  # DONT_KNOW itself contains the first marker


def generate_all(
    backend, prompts: list[list[dict]], workers: int = 16, copy_bias: float = 0.0
) -> tuple[list[str], float]:
    from bot.llm import GenerationRequest, generate

    def one(messages: list[dict]) -> str:
        request = GenerationRequest(messages=messages, max_new_tokens=MAX_NEW_TOKENS, copy_bias=copy_bias)
        return generate(backend, request)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        replies = list(tqdm(pool.map(one, prompts), total=len(prompts), desc="generating", unit="q"))
    return replies, time.perf_counter() - t0


def cache_key(cfg, prompts: list[list[dict]], copy_bias: float = 0.0) -> str:
    """Changes whenever the model, the adapter's weights, the prompts, the token limit or the decoding
    change."""
    h = hashlib.sha256()
    adapter = cfg.adapter_path()
    decoding = [MAX_NEW_TOKENS] + ([copy_bias] if copy_bias else [])  # bias 0 keeps earlier cache keys
    h.update(json.dumps([cfg.model, cfg.dtype, *decoding, prompts], sort_keys=True).encode())
    if adapter is not None:
        for f in sorted(Path(adapter).glob("adapter_*")):
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:16]


def cached_replies(
    name: str, backend, prompts: list[list[dict]], use_cache: bool, copy_bias: float = 0.0
) -> tuple[list[str], float, bool]:
    """(replies, generation seconds, whether they came from the cache); loads the model only to generate."""
    path = CACHE_DIR / f"{name}-{cache_key(backend.cfg, prompts, copy_bias)}.json"
    if use_cache and path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if len(saved["replies"]) == len(prompts):
            return saved["replies"], saved["seconds"], True
    replies, seconds = generate_all(backend.warm_up(), prompts, copy_bias=copy_bias)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"replies": replies, "seconds": seconds}), encoding="utf-8")
    tmp.replace(path)
    return replies, seconds, False


def prompt_for(question: str, passages: list, encode) -> list[dict]:
    """The assistant's prompt: passages focused on their best sentences (bot/extractive.focus_passages)."""
    return build_messages(question, focus_passages(question, passages, encode, FOCUS_SENTENCES))


def perplexity(backend, rows: list[dict]) -> float | None:
    """exp(mean NLL) of the reference assistant replies given their prompts (teacher forcing)."""
    if not rows:
        return None
    import torch

    from .sft import IGNORE, tokenize_row

    backend.warm_up()
    model, tok = backend.model, backend.tokenizer
    nll, count = 0.0, 0
    with torch.no_grad():
        for r in tqdm(rows, desc="perplexity", unit="row"):
            t = tokenize_row(tok, r["messages"], 4096)
            if t is None:
                continue
            ids = torch.tensor([t["input_ids"]])
            labels = torch.tensor([t["labels"]])
            logits = model(input_ids=ids).logits[0, :-1].float()
            target = labels[0, 1:]
            keep = target != IGNORE
            loss = torch.nn.functional.cross_entropy(logits[keep], target[keep], reduction="sum")
            nll += float(loss)
            count += int(keep.sum())
    return round(math.exp(nll / count), 3) if count else None


def score(questions: list[dict], shown: list[list], replies: list[str]) -> dict:
    ans = [(q, p, r) for q, p, r in zip(questions, shown, replies, strict=True) if q["answerable"]]
    una = [(q, p, r) for q, p, r in zip(questions, shown, replies, strict=True) if not q["answerable"]]
    gold = [all(contains_fact(r, f) for f in q["gold_facts"]) for q, _, r in ans]
    n_figs = n_bad = replies_bad = 0
    for q, p, r in zip(questions, shown, replies, strict=True):
        figs = figures(r)
        bad = unsupported_figures(r, [x.text for x in p] + [q["question"]])
        n_figs += len(figs)
        n_bad += len(bad)
        replies_bad += bool(bad)
    cited = [(q, p, r) for q, p, r in ans if citations(r)]
    cite_ok = 0
    for q, p, r in cited:
        texts = [p[n - 1].text for n in citations(r) if 1 <= n <= len(p)]
        cite_ok += any(all(contains_fact(t, f) for f in q["gold_facts"]) for t in texts)
    return {
        "answerable": len(ans),
        "unanswerable": len(una),
        "gold_fact_rate": round(sum(gold) / max(1, len(ans)), 4),
        "hallucinated_figure_rate": round(n_bad / max(1, n_figs), 4),
        "figures_in_replies": n_figs,
        "hallucinated_figures": n_bad,
        "replies_with_hallucinated_figure": round(replies_bad / max(1, len(replies)), 4),
        "citation_rate": round(len(cited) / max(1, len(ans)), 4),
        "citation_accuracy": round(cite_ok / max(1, len(cited)), 4),
        "unanswerable_declined": round(sum(declined(r) for _, _, r in una) / max(1, len(una)), 4),
        "answerable_declined": round(sum(declined(r) for _, _, r in ans) / max(1, len(ans)), 4),
    }


def evaluate(
    adapter: Path | None = None,
    limit: int = 0,
    progress: bool = True,
    max_unanswerable: int = 0,
    use_cache: bool = True,
    copy_bias: float = 0.0,
) -> dict:
    from bot.llm.config import LLMConfig
    from bot.llm.local import TransformersBackend
    from knowledge import KnowledgeBase

    questions = read_jsonl([DEFAULT_OUT / "heldout.jsonl"])
    ref_rows = (
        read_jsonl([DEFAULT_OUT / "heldout_rows.jsonl"])
        if (DEFAULT_OUT / "heldout_rows.jsonl").is_file()
        else []
    )
    ref_rows = ref_rows[:PERPLEXITY_ROWS]
    if max_unanswerable:  # keep every answerable question, cap the unanswerable ones (CPU time)
        una = [q for q in questions if not q["answerable"]][:max_unanswerable]
        questions = [q for q in questions if q["answerable"]] + una
    if limit:
        questions, ref_rows = questions[:limit], ref_rows[:limit]
    kb = KnowledgeBase.open(build_if_missing=True, progress=progress)
    encode = CachedEncoder(kb.embedder.encode)
    results = [kb.retrieve(q["question"], k=DEFAULT_PASSAGES) for q in questions]
    # As served: nothing is shown when the retrieval's scope model says the library does not answer.
    shown = [r.passages if r.answerable else [] for r in results]
    prompts = [prompt_for(q["question"], p, encode) for q, p in zip(questions, shown, strict=True)]
    # The LM alone: unanswerable questions the scope model stopped, asked again with the top passages shown.
    forced = [
        (q, r.passages)
        for q, r in zip(questions, results, strict=True)
        if not q["answerable"] and not r.answerable
    ]
    prompts += [prompt_for(q["question"], p, encode) for q, p in forced]
    n_main = len(questions)
    report: dict = {
        "questions": len(questions),
        "copy_bias": copy_bias,
        "reference_rows": len(ref_rows),
        "stopped_by_scope": {
            "answerable": sum(q["answerable"] and not p for q, p in zip(questions, shown, strict=True)),
            "unanswerable": len(forced),
        },
        "models": {},
    }
    samples: dict[str, list[str]] = {}
    for name, adapter_setting in (("base", "none"), ("finetuned", str(adapter) if adapter else "default")):
        cfg = LLMConfig.from_env(adapter=adapter_setting)
        if name == "finetuned" and cfg.adapter_path() is None:
            raise FileNotFoundError("no adapter to evaluate: train one with `python -m finetune sft`")
        backend = TransformersBackend(cfg)  # loaded on first use
        replies, seconds, from_cache = cached_replies(name, backend, prompts, use_cache, copy_bias)
        replies, forced_replies = replies[:n_main], replies[n_main:]
        una_passed = [
            r for q, p, r in zip(questions, shown, replies, strict=True) if not q["answerable"] and p
        ]
        lm_alone = [declined(r) for r in una_passed + forced_replies]
        report["models"][name] = {
            **score(questions, shown, replies),
            # every unanswerable question with its top passages in the prompt (no scope gate)
            "unanswerable_declined_passages_shown": round(sum(lm_alone) / max(1, len(lm_alone)), 4),
            "perplexity_heldout_refs": perplexity(backend, ref_rows),
            "generation_seconds": round(seconds, 1),
            "replies_from_cache": from_cache,
            "adapter": str(cfg.adapter_path()) if cfg.adapter_path() else None,
        }
        samples[name] = replies
        del backend
    base, ft = report["models"]["base"], report["models"]["finetuned"]
    gain = round(100 * (ft["gold_fact_rate"] - base["gold_fact_rate"]), 1)
    ratio = (
        ft["hallucinated_figure_rate"] / base["hallucinated_figure_rate"]
        if base["hallucinated_figure_rate"]
        else None
    )
    report["comparison"] = {
        "gold_fact_gain_points": gain,
        "hallucinated_figure_ratio": round(ratio, 3) if ratio is not None else None,
        "unanswerable_declined": ft["unanswerable_declined"],
    }
    report["targets"] = TARGETS
    report["targets_met"] = {
        "gold_fact_gain": gain >= TARGETS["gold_fact_gain_points"],
        "hallucinated_figures": ratio is not None and ratio <= TARGETS["hallucinated_figures_ratio_max"],
        "unanswerable_declined": ft["unanswerable_declined"] >= TARGETS["unanswerable_declined_min"],
    }
    report["examples"] = [
        {"question": q["question"], "gold_facts": q.get("gold_facts"), "base": b, "finetuned": f}
        for q, b, f in list(zip(questions, samples["base"], samples["finetuned"], strict=True))[:6]
    ]
    return report


def main(args: argparse.Namespace) -> int:
    report = evaluate(
        args.adapter,
        args.limit,
        progress=not args.json,
        max_unanswerable=args.max_unanswerable,
        use_cache=not args.no_cache,
        copy_bias=args.copy_bias,
    )
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for name, m in report["models"].items():
        print(f"{name:10s} " + "  ".join(f"{k}={v}" for k, v in m.items() if k != "adapter"))
    print("comparison:", report["comparison"], "targets met:", report["targets_met"])
    return 0
