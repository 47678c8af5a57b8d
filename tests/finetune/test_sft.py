"""LoRA SFT on a tiny random Llama (SmolLM2's architecture family) and SmolLM2's real tokenizer and chat
template: the loss is logged and falls, adapter weights change, base weights do not, labels cover only the
reply, training resumes from a checkpoint, and the backend merges the adapter (and refuses one trained
for another base model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from bot.prompts import build_messages
from finetune.lm.recipe import RecipeError, SFTRecipe
from finetune.lm.sft import IGNORE, tokenize_row, train

pytestmark = pytest.mark.slow  # needs the packaged tokenizer (converted once into the cache)


def _tiny(folder: Path, hidden: int = 32) -> Path:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from bot.llm.config import LLMConfig
    from bot.llm.model_files import resolve_model

    cfg = LLMConfig.from_env()
    tok = AutoTokenizer.from_pretrained(resolve_model(cfg.model, cfg.cache_dir))
    torch.manual_seed(0)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2,
            num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048,
            pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id,
        )
    )  # fmt: skip
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


class P:
    def __init__(self, title: str, section: str, text: str) -> None:
        self.title, self.section, self.text = title, section, text


def _rows(n: int) -> list[dict]:
    p = [P("Debit cards", "Limits", "The daily ATM withdrawal limit is $1,000.")]
    rows = []
    for i in range(n):
        m = build_messages(f"what is the atm limit? ({i})", p)
        m.append({"role": "assistant", "content": "The daily ATM withdrawal limit is $1,000 [1]."})
        rows.append({"messages": m, "meta": {"kind": "answer"}})
    return rows


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return _tiny(tmp_path_factory.mktemp("tiny") / "model")


def _recipe(tmp: Path, base: Path, **kw) -> SFTRecipe:
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    for name, n in (("train", 16), ("valid", 4)):
        (data / f"{name}.jsonl").write_text("\n".join(json.dumps(r) for r in _rows(n)))
    values = dict(
        base_model=str(base), data_dir=str(data), output_dir=str(tmp / "run"), adapter_dir=str(tmp / "adapter"),
        max_steps=8, learning_rate=5e-3, warmup_ratio=0.0, per_device_batch_size=4,
        gradient_accumulation_steps=1, logging_steps=1, save_steps=4, eval_steps=0, lora_r=4, lora_alpha=8,
    )  # fmt: skip
    values.update(kw)
    r = SFTRecipe(**values)
    r.validate()
    return r


def test_labels_cover_only_the_reply(tiny) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    row = tokenize_row(tok, _rows(1)[0]["messages"], 2048)
    labelled = [t for t, lab in zip(row["input_ids"], row["labels"], strict=True) if lab != IGNORE]
    assert tok.decode(labelled).startswith("The daily ATM withdrawal limit is $1,000 [1].")
    assert tok.decode(labelled).rstrip().endswith("<|im_end|>")
    assert tokenize_row(tok, _rows(1)[0]["messages"], 16) is None  # too long: dropped, never cut


def test_tiny_run_loss_falls_adapter_changes_base_does_not(tiny, tmp_path) -> None:
    s = train(_recipe(tmp_path, tiny), progress=False)
    losses = [loss for _, loss in s["loss_curve"]]
    assert len(losses) == 8 and sum(losses[-2:]) / 2 < losses[0]
    assert s["adapter_tensors_changed"] > 0 and s["base_tensors_changed"] == 0
    adapter = tmp_path / "adapter"
    assert (adapter / "adapter_config.json").is_file() and (adapter / "training_summary.json").is_file()
    recorded = json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert recorded == str(tiny) == s["base_model"]  # the recipe's base, not a cache path
    from safetensors.torch import load_file

    weights = load_file(adapter / "adapter_model.safetensors")
    assert all(v.dtype == torch.bfloat16 for v in weights.values())
    assert any(float(v.float().abs().sum()) > 0 for k, v in weights.items() if "lora_B" in k)


def test_resume_from_checkpoint(tiny, tmp_path) -> None:
    train(_recipe(tmp_path, tiny, max_steps=4, save_steps=2), progress=False)
    s = train(_recipe(tmp_path, tiny, max_steps=6, save_steps=2), resume=True, progress=False)
    assert s["resumed"] and s["steps"] == 6


def test_backend_merges_the_adapter_and_refuses_a_foreign_one(tiny, tmp_path) -> None:
    from bot.llm import BackendError, GenerationRequest, LLMConfig, generate
    from bot.llm.local import TransformersBackend

    train(_recipe(tmp_path, tiny, max_steps=2), progress=False)
    cfg = LLMConfig(model=str(tiny), adapter=str(tmp_path / "adapter"), cache_dir=tmp_path / "cache")
    b = TransformersBackend(cfg).warm_up()
    assert b.adapter == tmp_path / "adapter"
    out = generate(b, GenerationRequest(messages=[{"role": "user", "content": "hi"}], max_new_tokens=4))
    assert isinstance(out, str)
    other = _tiny(tmp_path / "other", hidden=48)
    with pytest.raises(BackendError, match="does not fit the base model"):
        TransformersBackend(LLMConfig(model=str(other), adapter=str(tmp_path / "adapter"))).warm_up()
    with pytest.raises(BackendError, match="not a LoRA adapter"):
        TransformersBackend(LLMConfig(model=str(other), adapter=str(tmp_path))).warm_up()


def test_recipe_validation_says_what_to_fix(tmp_path) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_text("lora_r: 0\n")
    with pytest.raises(RecipeError, match="lora_r=0"):
        SFTRecipe.load(bad)
    bad.write_text("learning_rat: 0.1\n")
    with pytest.raises(RecipeError, match="unknown field"):
        SFTRecipe.load(bad)
    with pytest.raises(RecipeError, match="does not exist"):
        SFTRecipe.load(tmp_path / "missing.yaml")
    assert SFTRecipe.load().lora_first_layer == 20  # the committed recipe loads
