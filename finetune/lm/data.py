"""`python -m finetune data`: the chat-format training set for the LM adapter, built from the sample bank's
documents with the real retriever and the assistant's own prompt (bot/prompts.py).

Each row is `{"messages": [system, (history...), user, assistant], "meta": {...}}`:
- answer: a training question (knowledge/eval/retrieval_train*.jsonl, phrased many ways), the passages
  retrieval returns for it (distractors included; the gold section's chunk swapped in when retrieval
  missed it; order sometimes shuffled), each focused on its best sentences for the question as the assistant
  shows them (bot/extractive.focus_passages), and an answer made of the gold passage's best one or two
  sentences, best first, each cited `[n]` (a sample of `unlabelled_answers` of these questions). Answers
  copy the documents, so they hold no figure the passages lack.
- answer_labelled: the questions of knowledge/eval/sentence_train_*.jsonl, each labelled with the sentence
  that answers it, answered with that sentence wherever its focused passage shows it (first line or not),
  so the model learns to pick the line that answers rather than always the first. Questions about held-out
  documents, and those whose labelled sentence the focused prompt does not show, are left out (counted).
- dont_know: out-of-scope questions (knowledge/eval/scope_train*.jsonl, unanswerable) with what retrieval
  returns for them (nothing when its scope model stops them, as in serving), and answerable questions shown
  another topic's passages: the reply is DONT_KNOW_REPLY.
- multi_turn: a second question on the same document after an earlier exchange kept as history.

Whole documents (HELD_OUT_DOCS) are held out: none of their chunks appears in any training prompt, and
`heldout.jsonl` lists the evaluation questions about them (from knowledge/eval/questions.jsonl and, when
present, bot/eval/data/questions.jsonl) plus unanswerable questions, for `python -m finetune eval`;
`heldout_rows.jsonl` holds reference answers on them (perplexity only).
It does not train anything and does not use the Bitext sample (its placeholder answers invent details).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bot.extractive import CachedEncoder, focus_passages, rank_sentences
from bot.prompts import DEFAULT_PASSAGES, DONT_KNOW_REPLY, FOCUS_SENTENCES, build_messages, shown_sentences

from ..labels import is_labelled

ROOT = Path(__file__).resolve().parents[2]
EVAL_DIR = ROOT / "knowledge" / "eval"
BOT_EVAL = ROOT / "bot" / "eval" / "data" / "questions.jsonl"
SENTENCE_GLOB = "sentence_train_*.jsonl"  # questions labelled with the sentence that answers them
DEFAULT_OUT = ROOT / "finetune" / "out" / "sft-data"
HELD_OUT_DOCS = (
    "car-loans",
    "term-deposits",
    "wire-transfers",
    "credit-card-rewards",
    "deposit-insurance",
    "accessibility",
)
_FIGURE = re.compile(r"[$£€]?\d[\d,.:]*(?:\s?%| ?(?:a\.m\.|p\.m\.|am|pm))?")


@dataclass(frozen=True)
class Shown:
    """A passage as the prompt shows it (what bot.prompts.format_passages reads)."""

    title: str
    section: str
    text: str
    doc_id: str


@dataclass
class DataConfig:
    out_dir: Path = DEFAULT_OUT
    held_out_docs: tuple[str, ...] = HELD_OUT_DOCS
    passages: int = DEFAULT_PASSAGES
    shuffle_share: float = 0.35  # share of answer rows whose passage order is shuffled
    easy_negatives: int = 200  # answerable questions shown another topic's passages
    multi_turn: int = 150
    # Share of "don't know" rows (hard: unanswerable questions with their retrieved passages; easy: answerable
    # questions shown another topic's passages), kept 2:1. At 33% the first adapter answered "I don't have that
    # information" to 80% of answerable held-out questions: one fixed reply outweighed the many ways answers
    # begin under greedy decoding. The rows over the share are dropped deterministically (and counted).
    dont_know_share: float = 0.2
    # Passage sentences shown per passage (bot/extractive.focus_passages), as the assistant serves them.
    focus: int = FOCUS_SENTENCES
    # An answer takes the gold passage's second-best sentence too when it scores within this margin of the
    # best and both fit in answer_max_chars (1.0: always, when they fit). Tried 1.0 (1,136 of 1,685 replies
    # quote two sentences instead of 285): `python -m finetune eval` gold 0.383 -> 0.407, but 3 scripted
    # dialogues that pass failed (the second sentence's figure hid the missing one); not adopted.
    second_sentence_margin: float = 0.05
    answer_max_chars: int = 400
    # Also answer the sentence-labelled questions (knowledge/eval/sentence_train_*.jsonl, training documents
    # only) with the sentence labelled as answering them, wherever the focused passage shows it (rows whose
    # labelled sentence is not shown are skipped); without them every target is its passage's first line.
    # `unlabelled_answers` keeps a sample of that many unlabelled questions (0 = all): their first-line target
    # is not the answer about a quarter of the time (72% of the labelled answers are the first line).
    # Tried 2026-11-24 with 700 (714 labelled rows, 192 of them answered by line 2 or 3): the retrained adapter
    # (same recipe, 1,720 s) scored `python -m finetune eval --max-unanswerable 40` gold 0.309 against 0.383
    # for the committed one in the same run, and declined more answerable questions (0.124 vs 0.074): not
    # adopted, so both are off by default.
    labelled_answers: bool = False
    unlabelled_answers: int = 0
    # Unanswerable questions the retrieval's scope model stops get "(no passages found)", as in serving.
    gate_unanswerable: bool = True
    valid_share: float = 0.04
    seed: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.dont_know_share < 1.0:
            raise ValueError(f"dont_know_share must be in [0, 1), got {self.dont_know_share}")


def read_jsonl(paths: Iterable[Path]) -> list[dict]:
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return rows


def figures(text: str) -> list[str]:
    """Numbers as written (amounts, percentages, times, phone numbers) found in `text`."""
    return [m.group(0).rstrip(".,:") for m in _FIGURE.finditer(text) if any(c.isdigit() for c in m.group(0))]


def cite(sentence_texts: Sequence[str], n: int) -> str:
    out = []
    for s in sentence_texts:
        s = s.rstrip()
        end = s[-1] if s and s[-1] in ".!?" else "."
        out.append(f"{s.rstrip('.!?')} [{n}]{end}")
    return " ".join(out)


class Builder:
    """Holds the knowledge base, the chunk sentences and their embeddings for one build."""

    def __init__(self, kb, cfg: DataConfig) -> None:
        self.kb, self.cfg = kb, cfg
        self.rng = random.Random(cfg.seed)
        self.chunks = kb.retriever.index.chunks
        self.held = set(cfg.held_out_docs)
        self.allow_held = False  # True only while writing heldout_rows.jsonl (perplexity reference)
        self.by_section: dict[tuple[str, str], list[int]] = {}
        for i, c in enumerate(self.chunks):
            self.by_section.setdefault((c.doc_id, c.section), []).append(i)
        self.shown_for: dict[str, list[Shown]] = {}  # question id -> passages of its answer row
        # Sentence embeddings, remembered: each row ranks its passages' sentences (focus and answer).
        self.encode = CachedEncoder(_batched(kb.embedder.encode), max_items=1_000_000)
        self.encode(list(dict.fromkeys(s for c in self.chunks for s in shown_sentences(c.text))))

    def shown(self, i: int) -> Shown:
        c = self.chunks[i]
        return Shown(c.title, c.section, c.text, c.doc_id)

    def retrieve(self, question: str, qvec: np.ndarray, gate: bool = False) -> list[Shown]:
        """The top passages outside the held-out documents; with `gate`, nothing when the retrieval's
        scope model says the library does not answer the question."""
        res = self.kb.retrieve(question, k=self.cfg.passages + 6, query_vector=qvec)
        if gate and not res.answerable:
            return []
        kept = [p for p in res.passages if p.doc_id not in self.held or self.allow_held]
        return [Shown(p.title, p.section, p.text, p.doc_id) for p in kept[: self.cfg.passages]]

    def retrieve_gated(self, question: str, qvec: np.ndarray) -> list[Shown]:
        """What the assistant's model would be shown for an unanswerable question: nothing (the prompt then
        reads "(no passages found)") when the scope model stops it and `gate_unanswerable` is on."""
        return self.retrieve(question, qvec, gate=self.cfg.gate_unanswerable)

    def best_sentences(self, i: int, question: str) -> tuple[list[str], float]:
        """The answer taken from chunk i: its best sentence for the question (as the focused prompt ranks
        them), and the second best when it scores within `second_sentence_margin` and both fit in
        `answer_max_chars`; best first, so the answer is the first line(s) of its passage in the prompt."""
        ranked = rank_sentences(question, [self.chunks[i].text], self.encode)
        if not ranked:
            return [], -1.0
        picked = [ranked[0].sentence]
        margin, limit = self.cfg.second_sentence_margin, self.cfg.answer_max_chars
        close = len(ranked) > 1 and ranked[1].score >= ranked[0].score - margin
        if close and len(ranked[0].sentence) + len(ranked[1].sentence) <= limit:
            picked.append(ranked[1].sentence)
        return picked, ranked[0].score

    def labelled_sentence(self, i: int, q: dict) -> list[str]:
        """For a sentence-labelled question: chunk i's shown sentence that is the labelled one, when the
        focused prompt shows it (among the chunk's `focus` best); else nothing."""
        ranked = rank_sentences(q["question"], [self.chunks[i].text], self.encode)[: max(1, self.cfg.focus)]
        return [e.sentence for e in ranked if is_labelled(e.sentence, q["sentence"], q["answer"])][:1]

    def answer_row(self, q: dict, qvec: np.ndarray) -> dict | None:
        """A cited answer. Its target is the gold chunk's best sentence(s) as the prompt ranks them, or, for
        a question labelled with the sentence that answers it (`q["sentence"]`), that sentence wherever the
        focused passage shows it: the model learns to pick the line that answers, not only the first."""
        gold_ids = self.by_section.get((q["doc"], q["section"]))
        if not gold_ids:
            return None
        shown = self.retrieve(q["question"], qvec)
        present = [k for k, p in enumerate(shown) if (p.doc_id, p.section) == (q["doc"], q["section"])]
        labelled = "sentence" in q
        if labelled:
            candidates = [(i, found, 1.0) for i in gold_ids if (found := self.labelled_sentence(i, q))]
            if not candidates:
                return None
            # the labelled sentence's chunk must be the one shown
            present = [k for k in present if any(self.chunks[c[0]].text == shown[k].text for c in candidates)]
        else:
            candidates = [(i, *self.best_sentences(i, q["question"])) for i in gold_ids]
        gold_i, picked, _ = max(candidates, key=lambda t: t[2])
        if present:
            pos = present[0]
            # answer from the retrieved gold chunk if it is one of the section's chunks
            match = [c for c in candidates if self.chunks[c[0]].text == shown[pos].text]
            if match:
                gold_i, picked = match[0][0], match[0][1]
        else:
            pos = min(len(shown), self.cfg.passages - 1)
            shown = [*shown[:pos], self.shown(gold_i)]
        if not picked:
            return None
        if self.rng.random() < self.cfg.shuffle_share:
            order = list(range(len(shown)))
            self.rng.shuffle(order)
            shown = [shown[k] for k in order]
            pos = order.index(pos)
        reply = cite(picked, pos + 1)
        self.shown_for[q["id"]] = shown
        return self.row(q["question"], shown, reply, "answer_labelled" if labelled else "answer", q)

    def row(self, question: str, shown: list[Shown], reply: str, kind: str, q: dict, history=()) -> dict:
        focused = focus_passages(question, shown, self.encode, self.cfg.focus)
        messages = build_messages(question, focused, history)
        messages.append({"role": "assistant", "content": reply})
        meta = {"kind": kind, "id": q.get("id"), "doc": q.get("doc"), "section": q.get("section")}
        meta["passage_docs"] = [p.doc_id for p in shown]
        return {"messages": messages, "meta": meta}


def load_train_questions(held: set[str], labelled: bool = False) -> tuple[list[dict], list[dict], list[dict]]:
    """(answerable questions on training docs, unanswerable questions, questions on held-out docs). With
    `labelled`, the answerable ones include the sentence-labelled questions of sentence_train_*.jsonl."""
    pool = read_jsonl(sorted(EVAL_DIR.glob("retrieval_train*.jsonl")))
    answerable = [q for q in pool if q["doc"] not in held]
    if labelled:
        answerable += [q for q in read_jsonl(sorted(EVAL_DIR.glob(SENTENCE_GLOB))) if q["doc"] not in held]
    unanswerable = [q for q in read_jsonl(sorted(EVAL_DIR.glob("scope_train*.jsonl"))) if not q["answerable"]]
    return answerable, unanswerable, [q for q in pool if q["doc"] in held]


def sample_unlabelled(questions: list[dict], keep: int, seed: int) -> list[dict]:
    """Every labelled question and `keep` of the unlabelled ones (a seeded sample; 0 keeps all), in order."""
    unlabelled = [q for q in questions if "sentence" not in q]
    if not 0 < keep < len(unlabelled):
        return questions
    kept = {q["id"] for q in random.Random(seed).sample(unlabelled, keep)}
    return [q for q in questions if "sentence" in q or q["id"] in kept]


def heldout_questions(held: set[str]) -> list[dict]:
    """Evaluation questions: answerable ones about held-out documents with gold facts, and unanswerable
    ones. None of them is used in training."""
    out = []
    docs = {d: (ROOT / "knowledge" / "docs" / f"{d}.md").read_text(encoding="utf-8").lower() for d in held}
    for q in read_jsonl([EVAL_DIR / "questions.jsonl"]):
        if not q["answerable"]:
            out.append({"id": q["id"], "question": q["question"], "answerable": False})
        elif q["doc"] in held:
            facts = [f for f in figures(q.get("answer", "")) if f.lower() in docs[q["doc"]]]
            if facts:
                out.append(
                    {"id": q["id"], "question": q["question"], "answerable": True, "doc": q["doc"],
                     "section": q["section"], "gold_facts": facts}
                )  # fmt: skip
    if BOT_EVAL.is_file():
        for q in read_jsonl([BOT_EVAL]):
            if not q["answerable"]:
                out.append({"id": q["id"], "question": q["question"], "answerable": False})
            elif q["doc"] in held:
                out.append(
                    {k: q[k] for k in ("id", "question", "answerable", "doc", "section", "gold_facts")}
                )
    return out


def build(kb, cfg: DataConfig) -> dict:
    """Write train.jsonl, valid.jsonl, heldout.jsonl and meta.json into cfg.out_dir; return the summary."""
    held = set(cfg.held_out_docs)
    unknown = held - {c.doc_id for c in kb.retriever.index.chunks}
    if unknown:
        raise ValueError(f"held_out_docs not in the index: {sorted(unknown)}")
    answerable, unanswerable, held_qs = load_train_questions(held, cfg.labelled_answers)
    answerable = sample_unlabelled(answerable, cfg.unlabelled_answers, cfg.seed + 2)
    b = Builder(kb, cfg)
    qvecs = kb.embedder.encode([q["question"] for q in answerable + unanswerable], progress=True)
    avecs, uvecs = qvecs[: len(answerable)], qvecs[len(answerable) :]
    rows: list[dict] = []
    skipped: list[str] = []
    answers: dict[str, dict] = {}
    for q, v in tqdm(list(zip(answerable, avecs, strict=True)), desc="answer rows", unit="q"):
        r = b.answer_row(q, v)
        if r is None:
            skipped.append(q["id"])
            continue
        rows.append(r)
        answers[q["id"]] = r
    hard = [
        b.row(q["question"], b.retrieve_gated(q["question"], v), DONT_KNOW_REPLY, "dont_know", q)
        for q, v in tqdm(list(zip(unanswerable, uvecs, strict=True)), desc="don't-know rows", unit="q")
    ]
    easy: list[dict] = []
    rng = random.Random(cfg.seed + 1)
    pool = [q for q in answerable if q["id"] in answers]
    for _ in range(cfg.easy_negatives):
        q, other = rng.sample(pool, 2)
        shown = [
            p
            for p in b.retrieve(other["question"], avecs[answerable.index(other)])
            if p.doc_id not in {q["doc"], "fee-schedule"}
        ]
        if other["doc"] == q["doc"] or not shown:
            continue
        easy.append(b.row(q["question"], shown, DONT_KNOW_REPLY, "dont_know_easy", q))
    by_doc: dict[str, list[dict]] = {}
    for q in pool:
        by_doc.setdefault(q["doc"], []).append(q)
    docs = [d for d, qs in by_doc.items() if len(qs) > 1]
    for _ in range(cfg.multi_turn):
        first, second = rng.sample(by_doc[rng.choice(docs)], 2)
        prev = answers[first["id"]]["messages"]
        history = [{"role": "user", "content": first["question"]}, prev[-1]]
        last = answers[second["id"]]
        rows.append(
            b.row(
                second["question"], b.shown_for[second["id"]], last["messages"][-1]["content"],
                "multi_turn", second, history,
            )
        )  # fmt: skip
    n_dont_know = round(cfg.dont_know_share / (1 - cfg.dont_know_share) * len(rows))
    n_hard = min(len(hard), round(n_dont_know * 2 / 3))
    n_easy = min(len(easy), n_dont_know - n_hard)
    dropped_dont_know = len(hard) - n_hard + len(easy) - n_easy
    rows += rng.sample(hard, n_hard) + rng.sample(easy, n_easy)
    rng.shuffle(rows)
    n_valid = max(1, int(len(rows) * cfg.valid_share))
    valid, train = rows[:n_valid], rows[n_valid:]
    heldout = heldout_questions(held)
    # Reference answers on the held-out documents, for perplexity only (never trained on).
    b.allow_held = True
    hvecs = kb.embedder.encode([q["question"] for q in held_qs], progress=False)
    ref_rows = [r for q, v in zip(held_qs, hvecs, strict=True) if (r := b.answer_row(q, v)) is not None]
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in (
        ("train", train), ("valid", valid), ("heldout", heldout), ("heldout_rows", ref_rows)
    ):  # fmt: skip
        _write_jsonl(out / f"{name}.jsonl", data)
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["meta"]["kind"]] = kinds.get(r["meta"]["kind"], 0) + 1
    leaked = [r["meta"]["id"] for r in rows if held & set(r["meta"]["passage_docs"])]
    summary = {
        "out_dir": str(out),
        "train_rows": len(train),
        "valid_rows": len(valid),
        "kinds": kinds,
        "skipped_questions": len(skipped),
        "skipped_labelled_questions": len(set(skipped) & {q["id"] for q in answerable if "sentence" in q}),
        "dont_know_rows_dropped_over_share": dropped_dont_know,
        "held_out_docs": sorted(held),
        "heldout_questions": {
            "answerable": sum(q["answerable"] for q in heldout),
            "unanswerable": sum(not q["answerable"] for q in heldout),
        },
        "rows_showing_held_out_docs": len(leaked),
        "heldout_reference_rows": len(ref_rows),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
    }
    (out / "meta.json").write_text(json.dumps(summary, indent=2))
    return summary


def _batched(encode):
    """The embedder's encode with a progress bar for the one large batch (every sentence of the library)."""

    def run(texts: list[str]) -> np.ndarray:
        return encode(texts, progress=len(texts) > 500)

    return run


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(path)
