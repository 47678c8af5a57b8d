"""The scoring used by `python -m bot.eval` and `python -m finetune eval`, on hand-made replies: each
figure can move for the right reason only."""

from __future__ import annotations

from dataclasses import dataclass

from bot.eval.run import declined, pct, score_answers, spread
from finetune.lm.evaluate import score

SRC = {"text": "Outgoing domestic wire: $25 online, $30 in a branch.", "doc_id": "fee-schedule"}
Q = {
    "id": "q1",
    "question": "how much is a wire online",
    "gold_facts": ["$25"],
    "doc": "fee-schedule",
    "answerable": True,
}


def test_score_answers_counts_gold_hallucination_and_citations() -> None:
    good = {"text": "A wire costs $25 online [1].", "sources": [SRC]}
    invented = {"text": "A wire costs $45 online [1].", "sources": [SRC]}
    uncited = {"text": "It is $25.", "sources": [SRC]}
    r = score_answers([Q, Q, Q], [good, invented, uncited])
    assert r["gold_fact_rate"] == round(2 / 3, 4)
    assert r["hallucinated_figures"] == 1 and r["replies_with_hallucinated_figure"] == round(1 / 3, 4)
    assert r["citation_rate"] == round(2 / 3, 4) and r["citation_accuracy"] == 1.0


def test_declines_and_percentiles() -> None:
    assert declined("I'm sorry, I don\u2019t have that information.") and not declined("The fee is $25 [1].")
    assert pct([1, 2, 3, 4, 100], 0.5) == 3 and pct([], 0.95) == 0.0


@dataclass
class P:
    text: str


def test_lm_eval_score() -> None:
    qs = [Q, {"id": "u1", "question": "weather?", "answerable": False}]
    shown = [[P(SRC["text"])], [P("Our branches open at 9 am.")]]
    r = score(qs, shown, ["Online it is $25 [1].", "I don't have that information."])
    assert (
        r["gold_fact_rate"] == 1.0
        and r["unanswerable_declined"] == 1.0
        and r["hallucinated_figure_rate"] == 0
    )
    r = score(qs, shown, ["Online it is $35 [1].", "It will be sunny and 75 degrees."])
    assert r["gold_fact_rate"] == 0.0 and r["unanswerable_declined"] == 0.0
    assert r["hallucinated_figures"] == 2 and r["citation_accuracy"] == 1.0  # right passage, wrong figure


def test_limit_spreads_over_the_whole_set() -> None:
    rows = [{"kind": k, "i": i} for k in "abcd" for i in range(10)]  # kinds in blocks, as in the data
    picked = spread(rows, 8)
    assert len(picked) == 8 and {r["kind"] for r in picked} == set("abcd")
    assert spread(rows, 0) == rows and spread(rows, 100) == rows


def test_evaluate_runs_the_chosen_sets_and_writes_every_reply(sample_kb, tmp_path) -> None:
    import json

    from bot.assistant import Assistant, Parts
    from bot.classifiers.fake import FakeClassifiers
    from bot.config import BotConfig
    from bot.eval.run import evaluate
    from bot.llm import FakeBackend
    from bot.storage import Store

    store = Store(f"sqlite:///{tmp_path / 'e.db'}")
    backend = FakeBackend("You can find that in the app [1].")
    a = Assistant(Parts(sample_kb, FakeClassifiers(sample_kb.embedder), backend, store), BotConfig())
    out = tmp_path / "replies.jsonl"
    report = evaluate(a, limit=2, workers=2, baseline=False, sets=("answerable", "attacks"), replies=out)
    assert report["sets"] == {"answerable": 2, "unanswerable": 0, "followups": 0, "attacks": 2, "pii": 0}
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["set"] for r in rows] == ["answerable", "answerable", "attacks", "attacks"]
    assert all(r["reply"] and r["route"] and isinstance(r["guard"], dict) for r in rows)
    assert rows[0]["gold_facts"] and report["latency_ms"]["assistant_single"]["total"]["p50"] > 0
