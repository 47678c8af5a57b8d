"""The batching engine passes the KV cache under the name the installed transformers expects: `cache` from
5.24 on (where `past_key_values` is deprecated, removed in 5.40), `past_key_values` before. No model is
loaded; the real engine runs in test_batching_real.py on whatever version is installed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.llm.cache_compat import cache_argument, returned_cache


class NewModel:
    def forward(self, input_ids=None, attention_mask=None, cache=None, use_cache=None) -> None: ...


class OldModel:
    def forward(self, input_ids=None, attention_mask=None, past_key_values=None, use_cache=None) -> None: ...


class Wrapper:
    def forward(self, *args: Any, **kwargs: Any) -> None: ...


def test_the_argument_follows_the_model_s_forward_signature() -> None:
    assert cache_argument(NewModel()) == "cache"
    assert cache_argument(OldModel()) == "past_key_values"


def test_a_wrapper_without_named_arguments_goes_by_the_installed_version() -> None:
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    assert cache_argument(Wrapper()) == ("cache" if (major, minor) >= (5, 24) else "past_key_values")


@dataclass
class NewOutput:
    logits: Any = None
    cache: Any = None


@dataclass
class OldOutput:
    logits: Any = None
    past_key_values: Any = None


def test_the_returned_cache_is_read_under_either_name() -> None:
    assert returned_cache(NewOutput(cache="kv")) == "kv"
    assert returned_cache(OldOutput(past_key_values="kv")) == "kv"


def test_the_real_model_class_is_read_correctly() -> None:
    from transformers.modeling_outputs import CausalLMOutputWithPast
    from transformers.models.llama.modeling_llama import LlamaForCausalLM

    name = cache_argument(LlamaForCausalLM)
    assert name in {"cache", "past_key_values"}
    assert name in CausalLMOutputWithPast.__dataclass_fields__
