"""finetune.sentence_ranker: labelling a candidate, fitting the softmax ranker, and scoring ranks."""

from __future__ import annotations

import numpy as np

from bot.sentence_ranker import FEATURES
from finetune.labels import is_labelled
from finetune.sentence_ranker import answers, at, fit, folds, hand_score, ranks


def test_a_table_row_or_list_item_is_found_inside_its_joined_candidate() -> None:
    joined = "Mobile check deposit limits: Per day: Everyday Checking: $5,000; Premier Checking: $25,000."
    assert is_labelled(joined, "| Per day | $5,000 | $25,000 |", "$5,000")
    assert is_labelled("Wires cost $30 [1].", "**Wires** cost $30.", "$30")  # markup aside
    assert not is_labelled(joined, "| Per day | $5,000 | $25,000 |", "$10,000")  # the answer must be there
    assert not is_labelled("Branches open at 9 am and close at 5 pm.", "Wires cost $30.", "$30")


def test_a_positive_is_the_labelled_sentence_or_the_same_answer_in_the_same_document() -> None:
    row = {"sentence": "Each payment costs $1.", "answer": "$1", "doc": "instant-payments"}
    assert answers(row, "Each payment costs $1, whatever the amount.", "instant-payments")
    assert answers(row, "Summary: Instant, $1 per payment.", "instant-payments")  # a table says it too
    assert not answers(row, "A $1 fee applies to paper statements.", "statements-and-tax-documents")


def _groups(rng: np.random.Generator, n: int, informative: int) -> list[dict]:
    groups = []
    for i in range(n):
        x = rng.normal(size=(8, len(FEATURES)))
        y = np.zeros(8, dtype=bool)
        y[int(x[:, informative].argmax())] = True  # the positive has the highest value of one feature
        groups.append({"x": x, "y": y, "hand": rng.permutation(8), "doc": f"doc-{i % 7}"})
    return groups


def test_fit_learns_the_informative_feature_and_ranks_the_positive_first() -> None:
    rng = np.random.default_rng(0)
    j = FEATURES.index("cosine_section")
    train, test = _groups(rng, 200, j), _groups(rng, 100, j)
    model = fit(train, l2=0.001)
    assert int(np.abs(model.weights).argmax()) == j and model.weights[j] > 0
    learned = at(ranks(test, lambda g: model.score(g["x"])), len(test))
    chance = at(ranks(test, hand_score), len(test))
    assert learned["within_1"] > 0.9 > chance["within_1"] + 0.5
    # A larger penalty shrinks the weights.
    assert np.abs(fit(train, l2=1.0).weights).sum() < np.abs(model.weights).sum()


def test_ranks_count_questions_without_a_positive_as_misses_and_folds_keep_documents_together() -> None:
    g = {"x": np.zeros((3, len(FEATURES))), "y": np.array([False, False, True]), "hand": np.array([2, 1, 0])}
    assert ranks([g], hand_score).tolist() == [0]
    assert at(np.array([0, 1]), 4) == {"within_1": 0.25, "within_2": 0.5, "within_3": 0.5}
    fold_of = folds([{"doc": f"d{i}"} for i in range(12)] + [{"doc": "d3"}])
    assert len(fold_of) == 12 and set(fold_of.values()) == set(range(5))
