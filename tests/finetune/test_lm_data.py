"""`finetune data` on the sample library (hashing embedder for speed; the committed build uses MiniLM):
rows use the serving prompt, answers quote the cited passage, "don't know" rows say so, and held-out
documents never appear in a training prompt."""

from __future__ import annotations

import json
import re

import pytest

from bot.prompts import DONT_KNOW_REPLY, FOCUS_SENTENCES, SYSTEM_PROMPT
from finetune.labels import is_labelled
from finetune.lm.data import (
    EVAL_DIR,
    HELD_OUT_DOCS,
    SENTENCE_GLOB,
    Builder,
    DataConfig,
    build,
    load_train_questions,
    sample_unlabelled,
)
from knowledge import HashingEmbedder, KnowledgeBase, KnowledgeConfig

from ..conftest import SAMPLE_DOCS


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sft")
    cfg = KnowledgeConfig(
        docs_dir=SAMPLE_DOCS, index_dir=tmp / "index", query_adapter="none", scope_model="none"
    )
    emb = HashingEmbedder(dim=256)
    KnowledgeBase.build(cfg, emb, progress=False)
    summary = build(
        KnowledgeBase.open(cfg, emb),
        DataConfig(out_dir=tmp / "out", easy_negatives=30, multi_turn=30, labelled_answers=True),
    )
    rows = {
        n: [json.loads(x) for x in (tmp / "out" / f"{n}.jsonl").read_text().splitlines()]
        for n in ("train", "valid", "heldout")
    }
    return summary, rows


def test_summary_and_kinds(built) -> None:
    summary, rows = built
    assert summary["rows_showing_held_out_docs"] == 0 and summary["train_rows"] == len(rows["train"])
    assert {"answer", "dont_know", "dont_know_easy", "multi_turn"} <= set(summary["kinds"])


def test_rows_use_the_serving_prompt_and_quote_cited_passages(built) -> None:
    _, rows = built
    for r in rows["train"] + rows["valid"]:
        msgs = r["messages"]
        assert msgs[0] == {"role": "system", "content": SYSTEM_PROMPT} and msgs[-1]["role"] == "assistant"
        user, reply = msgs[-2]["content"], msgs[-1]["content"]
        assert not any(f"{d}" == p for p in r["meta"]["passage_docs"] for d in HELD_OUT_DOCS)
        if r["meta"]["kind"].startswith("dont_know"):
            assert reply == DONT_KNOW_REPLY
            continue
        blocks = dict(re.findall(r"\[(\d)\] [^\n]*\n(.*?)(?=\n\n\[\d\] |\n\nQuestion:)", user, flags=re.S))
        for sentence, n in re.findall(r"(.*?) \[(\d)\][.!?]\s*", reply):
            assert sentence.strip()[:40] in blocks[n].replace("\n", " ")


def test_held_out_questions_are_not_trained_on(built) -> None:
    _, rows = built
    trained = {r["messages"][-2]["content"].rsplit("Question: ", 1)[1] for r in rows["train"]}
    held = rows["heldout"]
    assert held and all(q["question"] not in trained for q in held)
    assert all((not q["answerable"]) or q["doc"] in HELD_OUT_DOCS for q in held)
    assert all(q["gold_facts"] for q in held if q["answerable"])


def test_answers_open_their_passage_as_the_focused_prompt_shows_it(built) -> None:
    """The answer is the cited passage's best sentence, which the focused prompt shows first: the model
    learns to quote the opening line of the passage that answers."""
    _, rows = built
    answers = [r for r in rows["train"] if r["meta"]["kind"] == "answer"]
    opens = 0
    for r in answers:
        user, reply = r["messages"][-2]["content"], r["messages"][-1]["content"]
        blocks = dict(re.findall(r"\[(\d)\] [^\n]*\n(.*?)(?=\n\n\[\d\] |\n\nQuestion:)", user, flags=re.S))
        first, n = re.match(r"(.*?) \[(\d)\]", reply).groups()
        assert len(blocks[n].split("\n")) <= FOCUS_SENTENCES
        opens += blocks[n].split("\n")[0].startswith(first.strip()[:40])
    assert answers and opens / len(answers) > 0.95


def test_unanswerable_questions_stopped_by_the_scope_gate_show_no_passages(tmp_path) -> None:
    """With the gate on, a "don't know" row for a question the retrieval stops reads "(no passages found)"
    (as the assistant would serve it); with it off, the retrieved passages are shown."""
    cfg = KnowledgeConfig(
        docs_dir=SAMPLE_DOCS, index_dir=tmp_path / "index", query_adapter="none", scope_model="none",
        no_answer_threshold=0.99,  # the threshold stops every question
    )  # fmt: skip
    emb = HashingEmbedder(dim=256)
    KnowledgeBase.build(cfg, emb, progress=False)
    kb = KnowledgeBase.open(cfg, emb)
    q = {"id": "u1", "question": "can you book me a flight to Rome"}
    gated = Builder(kb, DataConfig(out_dir=tmp_path / "a")).retrieve_gated(q["question"], None)
    shown = Builder(kb, DataConfig(out_dir=tmp_path / "b", gate_unanswerable=False)).retrieve_gated(
        q["question"], None
    )
    assert gated == [] and len(shown) == 3
    row = Builder(kb, DataConfig(out_dir=tmp_path / "c")).row(
        q["question"], gated, DONT_KNOW_REPLY, "dont_know", q
    )
    assert "(no passages found)" in row["messages"][-2]["content"]


def test_labelled_questions_answer_with_their_labelled_sentence(built) -> None:
    """A sentence-labelled question (knowledge/eval/sentence_train_*.jsonl) is answered with the sentence
    labelled as answering it, which holds the answer and is one of its passage's shown lines (not always the
    first: that is what these rows teach). Rows whose labelled sentence the prompt does not show are skipped
    and counted."""
    summary, rows = built
    labelled = {
        q["id"]: q for f in sorted(EVAL_DIR.glob(SENTENCE_GLOB)) for q in map(json.loads, f.open()) if q
    }
    got = [r for r in rows["train"] + rows["valid"] if r["meta"]["kind"] == "answer_labelled"]
    assert got and summary["kinds"]["answer_labelled"] == len(got)
    assert summary["skipped_labelled_questions"] < len(got)
    later = 0
    for r in got:
        q = labelled[r["meta"]["id"]]
        assert q["doc"] not in HELD_OUT_DOCS
        user, reply = r["messages"][-2]["content"], r["messages"][-1]["content"]
        first, n = re.match(r"(.*?) \[(\d)\]", reply).groups()
        assert is_labelled(first, q["sentence"], q["answer"])
        blocks = dict(re.findall(r"\[(\d)\] [^\n]*\n(.*?)(?=\n\n\[\d\] |\n\nQuestion:)", user, flags=re.S))
        lines = blocks[n].split("\n")
        assert any(line.startswith(first.strip()[:40]) for line in lines)
        later += not lines[0].startswith(first.strip()[:40])
    assert later > 0


def test_unlabelled_questions_are_sampled_and_labelled_ones_all_kept() -> None:
    """`unlabelled_answers` keeps that many unlabelled questions (the same ones each build), every labelled
    one, and the file order; 0 keeps all. Neither kind comes from a held-out document."""
    held = set(HELD_OUT_DOCS)
    plain, _, _ = load_train_questions(held, labelled=False)
    both, _, _ = load_train_questions(held, labelled=True)
    n_labelled = len(both) - len(plain)
    assert plain and n_labelled > 0 and all(q["doc"] not in held for q in both)
    kept = sample_unlabelled(both, 100, seed=2)
    assert len(kept) == 100 + n_labelled and sum("sentence" not in q for q in kept) == 100
    assert [q["id"] for q in kept] == [q["id"] for q in both if q in kept]
    assert kept == sample_unlabelled(both, 100, seed=2) != sample_unlabelled(both, 100, seed=3)
    assert sample_unlabelled(both, 0, seed=2) == both
