"""`python -m finetune eval` options: --copy-bias reaches the evaluation and keys the reply cache, so replies
decoded one way are never scored as the other; bias 0 keeps the keys of earlier runs."""

from __future__ import annotations

from types import SimpleNamespace

from bot.prompts import COPY_BIAS
from finetune.cli import build_parser
from finetune.lm.evaluate import cache_key

CFG = SimpleNamespace(model="packaged", dtype="float32", adapter_path=lambda: None)
PROMPTS = [[{"role": "user", "content": "what is the fee?"}]]


def test_copy_bias_is_parsed_with_the_served_decoding_as_default() -> None:
    p = build_parser()
    assert p.parse_args(["eval"]).copy_bias == COPY_BIAS
    assert p.parse_args(["eval", "--copy-bias", "8"]).copy_bias == 8.0


def test_cache_key_changes_with_the_decoding_and_the_prompts() -> None:
    plain = cache_key(CFG, PROMPTS)
    assert cache_key(CFG, PROMPTS, 0.0) == plain
    assert cache_key(CFG, PROMPTS, 8.0) != plain != cache_key(CFG, [[{"role": "user", "content": "x"}]])
