"""`python -m knowledge build|search|stats|eval|bench`: the operator's entry point to the knowledge base.

Thin: parse arguments into a `KnowledgeConfig`, call the package, print a summary (or JSON). Errors the
operator can fix (missing index, wrong model, empty folder, bad config) print one clear message and exit
with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import DEFAULT_EVAL_FILE, ConfigError, KnowledgeConfig


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--docs", type=Path, help="documents folder (default: the sample bank's library)")
    p.add_argument("--index", type=Path, help="index folder (default: ~/.cache/fernhollow/index)")
    p.add_argument("--model", help="local sentence-transformers folder (default: packaged all-MiniLM-L6-v2)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="index the documents folder (re-embeds only changed documents)")
    _common(b)
    b.add_argument("--full", action="store_true", help="re-embed everything")
    b.add_argument("--json", action="store_true", help="print the build report as JSON")

    s = sub.add_parser("search", help="retrieve passages for a query")
    _common(s)
    s.add_argument("query")
    s.add_argument("-k", type=int, default=None)
    s.add_argument("--dense-only", action="store_true")
    s.add_argument("--json", action="store_true")

    st = sub.add_parser("stats", help="describe the current index")
    _common(st)
    st.add_argument("--json", action="store_true")

    e = sub.add_parser("eval", help="recall@k, MRR and no-answer F1 on the labelled question set")
    _common(e)
    e.add_argument("--questions", type=Path, default=DEFAULT_EVAL_FILE)
    e.add_argument("-k", type=int, default=5)
    e.add_argument("--json", action="store_true")
    e.add_argument("--show-misses", action="store_true")

    ts = sub.add_parser(
        "train-scope", help="train the no-answer (scope) model on knowledge/eval/scope_train*.jsonl"
    )
    _common(ts)
    ts.add_argument(
        "--train", type=Path, default=None, help="training questions (JSONL: question, answerable)"
    )
    ts.add_argument("--out", type=Path, default=None, help="where to write the model JSON")
    ts.add_argument(
        "--answerable-prior",
        type=float,
        default=0.85,
        help="share of real traffic the library can answer (weights the threshold choice)",
    )

    ta = sub.add_parser(
        "train-adapter", help="train the query adapter on knowledge/eval/retrieval_train*.jsonl"
    )
    _common(ta)
    ta.add_argument(
        "--train", type=Path, default=None, help="labelled questions (JSONL: question, doc, section)"
    )
    ta.add_argument("--out", type=Path, default=None, help="where to write the adapter .npz")
    ta.add_argument(
        "--epochs", type=int, default=300, help="maximum epochs (early-stopped on held-out sections)"
    )

    bench = sub.add_parser("bench", help="build, rebuild and query-latency benchmarks; flat vs approximate")
    _common(bench)
    bench.add_argument("--sizes", default="100000,1000000", help="synthetic corpus sizes, comma-separated")
    bench.add_argument("--runs", type=int, default=3, help="repetitions per timing (median reported)")
    bench.add_argument("--queries", type=int, default=200, help="queries per latency measurement")
    bench.add_argument("--json", action="store_true")
    return parser


def config_from_args(args: argparse.Namespace) -> KnowledgeConfig:
    return KnowledgeConfig.from_env(docs_dir=args.docs, index_dir=args.index, embedding_model=args.model)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .builder import EmptyLibraryError
    from .store import KnowledgeIndexError

    try:
        cfg = config_from_args(args)
        return COMMANDS[args.command](cfg, args)
    except (ConfigError, KnowledgeIndexError, EmptyLibraryError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def cmd_build(cfg: KnowledgeConfig, args: argparse.Namespace) -> int:
    from .api import KnowledgeBase

    report = KnowledgeBase.build(cfg, full=args.full, progress=not args.json)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    return 0


def cmd_search(cfg: KnowledgeConfig, args: argparse.Namespace) -> int:
    from .api import KnowledgeBase

    kb = KnowledgeBase.open(cfg)
    res = kb.retrieve(args.query, k=args.k, hybrid=False if args.dense_only else None)
    if args.json:
        print(json.dumps(res.to_dict(), indent=2, ensure_ascii=False))
        return 0
    verdict = "answerable" if res.answerable else "NO ANSWER (below threshold)"
    print(f"top cosine {res.top_score:.3f} vs threshold {res.threshold:.2f}: {verdict}")
    for n, p in enumerate(res.passages, 1):
        snippet = " ".join(p.text.split())[:160]
        print(f"[{n}] {p.score:.3f}  {p.title} > {p.section}\n    {p.url}\n    {snippet}")
    return 0


def cmd_stats(cfg: KnowledgeConfig, args: argparse.Namespace) -> int:
    from .api import KnowledgeBase

    stats = KnowledgeBase.open(cfg).stats()
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        for key, val in stats.items():
            print(f"{key}: {len(val) if isinstance(val, list) else val}")
    return 0


def cmd_eval(cfg: KnowledgeConfig, args: argparse.Namespace) -> int:
    from .api import KnowledgeBase
    from .evaluation import evaluate, load_questions

    kb = KnowledgeBase.open(cfg, build_if_missing=True, progress=not args.json)
    report = evaluate(kb.retriever, load_questions(args.questions), k=args.k, progress=not args.json)
    if not args.show_misses:
        for m in report["modes"].values():
            m["misses"] = len(m["misses"])
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print(
        f"{report['questions']} questions ({report['answerable']} answerable, "
        f"{report['unanswerable']} unanswerable), k={args.k}, threshold={report['threshold']}"
    )
    for mode, m in report["modes"].items():
        s, d, na, t = m["section"], m["document"], m["no_answer"], m["threshold_only"]
        st = m["section_strict"]
        print(
            f"{mode:>6}: section R@1 {s['recall@1']:.3f} R@{args.k} {s[f'recall@{args.k}']:.3f} "
            f"MRR {s[f'mrr@{args.k}']:.3f} | document R@1 {d['recall@1']:.3f} R@{args.k} "
            f"{d[f'recall@{args.k}']:.3f} MRR {d[f'mrr@{args.k}']:.3f} | strict gold section R@1 "
            f"{st['recall@1']:.3f} R@{args.k} {st[f'recall@{args.k}']:.3f} MRR {st[f'mrr@{args.k}']:.3f}\n"
            f"        no-answer ({m['no_answer_decided_by']}): P {na['precision']:.3f} R {na['recall']:.3f} "
            f"F1 {na['f1']:.3f} | cosine threshold alone: F1 {t['at_configured']['f1']:.3f} at "
            f"{report['threshold']}, best {t['best_f1']:.3f} at {t['best_threshold']}, 2-fold CV {t['cv_f1']:.3f}"
        )
        if args.show_misses:
            for miss in m["misses"]:
                print(f"    miss {miss['id']}: {miss['question']!r} gold={miss['gold']} got={miss['got']}")
    return 0


def cmd_train_scope(cfg: KnowledgeConfig, args: argparse.Namespace) -> int:
    from .api import KnowledgeBase
    from .config import PACKAGE_DIR
    from .scope import DEFAULT_SCOPE_MODEL, SCOPE_TRAIN_GLOB
    from .scope_training import train_scope

    kb = KnowledgeBase.open(cfg.with_overrides(scope_model="none"), build_if_missing=True, progress=True)
    out = args.out or DEFAULT_SCOPE_MODEL
    files = [args.train] if args.train else sorted((PACKAGE_DIR / "eval").glob(SCOPE_TRAIN_GLOB))
    meta = train_scope(kb.retriever, files, out, answerable_prior=args.answerable_prior)
    print(f"scope model -> {out}\n" + "\n".join(f"  {k}: {v}" for k, v in meta.items()))
    return 0


def cmd_train_adapter(cfg: KnowledgeConfig, args: argparse.Namespace) -> int:
    from .adapter import ADAPTER_TRAIN_GLOB, DEFAULT_ADAPTER
    from .adapter_training import train_adapter
    from .api import KnowledgeBase
    from .config import PACKAGE_DIR

    kb = KnowledgeBase.open(
        cfg.with_overrides(scope_model="none", query_adapter="none"), build_if_missing=True
    )
    out = args.out or DEFAULT_ADAPTER
    files = [args.train] if args.train else sorted((PACKAGE_DIR / "eval").glob(ADAPTER_TRAIN_GLOB))
    meta = train_adapter(kb.retriever, files, out, epochs=args.epochs)
    print(f"query adapter -> {out}\n" + "\n".join(f"  {k}: {v}" for k, v in meta.items()))
    print("retrain the scope model next: python -m knowledge train-scope")
    return 0


def cmd_bench(cfg: KnowledgeConfig, args: argparse.Namespace) -> int:
    from .bench import run_bench

    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    report = run_bench(cfg, sizes=sizes, runs=args.runs, n_queries=args.queries, progress=not args.json)
    print(json.dumps(report, indent=2))
    return 0


COMMANDS = {
    "build": cmd_build,
    "search": cmd_search,
    "stats": cmd_stats,
    "eval": cmd_eval,
    "train-scope": cmd_train_scope,
    "train-adapter": cmd_train_adapter,
    "bench": cmd_bench,
}
