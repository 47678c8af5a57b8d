"""The copy bias of the batching engine (bot/llm/batching.py): the bigram table built from a prompt, and the
bonus it gives, at decode time, to the tokens that continue a quote of the prompt. Logits are given by hand,
so no model is loaded; the effect on real replies is measured by `python -m finetune eval --copy-bias`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.llm import GenerationRequest, GenerationStats
from bot.llm.batching import BatchingEngine, _Job
from bot.llm.prompt_lookup import prompt_followers

torch = pytest.importorskip("torch")
MSG = [{"role": "user", "content": "hi"}]
CITE, END = 4, 3  # stand-ins for the " [" and end-of-turn token ids


def test_prompt_followers_lists_each_pair_s_next_tokens_once() -> None:
    assert prompt_followers([5, 6, 7, 5, 6, 8, 5, 6, 7]) == {
        (5, 6): [7, 8],
        (6, 7): [5],
        (7, 5): [6],
        (6, 8): [5],
        (8, 5): [6],
    }
    assert prompt_followers([1, 2]) == {}


def _choose(bias: float, generated: list[int], logits: list[float], prompt=(5, 6, 7, 5, 6, 8)) -> int:
    job = _Job(GenerationRequest(MSG, copy_bias=bias), list(prompt), GenerationStats())
    job.followers = prompt_followers(job.prompt_ids) if bias else None
    job.generated = generated
    engine = SimpleNamespace(pad_id=0, uncopied={CITE, END})  # what _choose reads from the engine
    engine._copy_bonus = lambda job, row: BatchingEngine._copy_bonus(engine, job, row)
    return int(BatchingEngine._choose(engine, [job], torch.tensor([logits]))[0])


def test_the_bonus_goes_to_the_tokens_that_continue_the_quote() -> None:
    logits = [0.0] * 10
    logits[9], logits[8] = 3.0, 0.5  # the model prefers 9; the prompt continues (5, 6) with 7 or 8
    assert _choose(0.0, [5, 6], logits) == 9  # off: plain greedy
    assert _choose(4.0, [5, 6], logits) == 8  # 0.5 + 4 beats 3.0; 8 beats 7 on the model's own logit
    assert _choose(2.0, [5, 6], logits) == 9  # a small bonus does not overrule a confident model
    assert _choose(4.0, [6, 9], logits) == 9  # (6, 9) is not in the prompt: no bonus


def test_the_first_token_continues_from_the_prompt_s_last_tokens() -> None:
    logits = [0.0] * 10
    logits[9] = 1.0
    # nothing written yet: the pair is the prompt's last two tokens, (6, 8), which the prompt never continues
    assert _choose(4.0, [], logits) == 9
    # one token written: the pair is (the prompt's last token, that token): (8, 5), continued by 2 earlier
    assert _choose(4.0, [5], logits, prompt=(8, 5, 2, 6, 8)) == 2
    assert _choose(4.0, [], logits, prompt=(6, 8, 3, 6, 8)) == 3


def test_the_model_s_own_citation_mark_or_end_wins_and_its_own_words_are_not_repeated() -> None:
    logits = [0.0] * 10
    logits[CITE] = 1.0  # the model wants to cite here: the quote's next word gets no bonus
    assert _choose(4.0, [5, 6], logits) == CITE
    logits = [0.0] * 10
    logits[8] = 0.5
    assert _choose(4.0, [5, 6], logits) == 8
    # (5, 6, 8) already written: only 7 keeps the bonus, so the row does not loop over its own words
    assert _choose(4.0, [5, 6, 8, 5, 6], logits) == 7


def test_lookup_draft_continues_the_latest_earlier_occurrence_of_the_last_tokens() -> None:
    from bot.llm.prompt_lookup import lookup_draft

    history = [1, 2, 3, 4, 5, 9, 1, 2, 3, 7, 8, 6, 1, 2, 3]
    assert lookup_draft(history, 3) == [7, 8, 6]  # trigram (1, 2, 3): its latest earlier occurrence
    assert lookup_draft(history, 0) == []
    assert lookup_draft([5, 6, 7, 8, 6, 7], 2) == [8, 6]  # no earlier (8, 6, 7): bigram (6, 7)
    assert lookup_draft([1, 2, 3, 4], 4) == []  # nothing recurs: no draft, a plain step
