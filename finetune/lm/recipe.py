"""The SFT recipe: a typed view of finetune/recipes/*.yaml with a description per field and validation that
says what to fix. No training code here."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RECIPE = ROOT / "finetune" / "recipes" / "sft-smollm2-lora.yaml"


def _f(default, doc: str):
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"doc": doc})
    return field(default=default, metadata={"doc": doc})


class RecipeError(ValueError):
    """The recipe file is missing, malformed or has an invalid value."""


@dataclass
class SFTRecipe:
    base_model: str = _f("", "Empty: packaged SmolLM2-135M-Instruct; else a local Hugging Face folder.")
    data_dir: str = _f("finetune/out/sft-data", "Folder with train.jsonl / valid.jsonl (finetune data).")
    output_dir: str = _f("finetune/out/sft-run", "Checkpoints and the training log.")
    adapter_dir: str = _f("bot/models/lm-adapter", "Where the final adapter is written.")
    seed: int = _f(0, "Seed for data order, LoRA init and dropout.")
    lora_r: int = _f(8, "LoRA rank.")
    lora_alpha: int = _f(16, "LoRA alpha (scaling = alpha / r).")
    lora_dropout: float = _f(0.05, "Dropout on the LoRA input.")
    lora_first_layer: int = _f(
        0, "Adapters on decoder layers >= this index only (0 = all); the backward pass stops there."
    )
    target_modules: list[str] = _f(
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        "Linear layers that get adapters.",
    )
    learning_rate: float = _f(5e-4, "Peak learning rate (cosine decay).")
    warmup_ratio: float = _f(0.05, "Share of steps spent warming up.")
    weight_decay: float = _f(0.0, "AdamW weight decay.")
    per_device_batch_size: int = _f(2, "Rows per forward pass.")
    gradient_accumulation_steps: int = _f(4, "Forward passes per optimiser step.")
    max_steps: int = _f(200, "Optimiser steps.")
    max_seq_len: int = _f(1024, "Rows with more tokens are dropped and counted.")
    max_train_rows: int = _f(0, "0 = all rows; tiny test runs set a small number.")
    logging_steps: int = _f(5, "Log the loss every N steps.")
    save_steps: int = _f(50, "Checkpoint every N steps (resume with --resume).")
    eval_steps: int = _f(100, "Validation loss every N steps (0 = only at the end).")
    threads: int = _f(0, "torch threads; 0 = default.")

    @classmethod
    def load(cls, path: Path | str = DEFAULT_RECIPE, **overrides) -> SFTRecipe:
        path = Path(path)
        if not path.is_file():
            raise RecipeError(f"recipe {path} does not exist (see finetune/recipes/)")
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise RecipeError(f"recipe {path} is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise RecipeError(f"recipe {path} must be a mapping of field: value")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise RecipeError(f"recipe {path}: unknown field(s) {unknown}; known: {sorted(known)}")
        raw.update({k: v for k, v in overrides.items() if v is not None})
        recipe = cls(**raw)
        recipe.validate()
        return recipe

    def validate(self) -> None:
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise RecipeError(msg)

        need(self.lora_r >= 1, f"lora_r={self.lora_r}: use a rank of at least 1 (8 is typical)")
        need(0 <= self.lora_dropout < 1, "lora_dropout must be in [0, 1)")
        need(0 < self.learning_rate < 1, f"learning_rate={self.learning_rate}: use e.g. 5e-4")
        need(0 <= self.warmup_ratio < 1, "warmup_ratio must be in [0, 1)")
        need(self.per_device_batch_size >= 1, "per_device_batch_size must be >= 1")
        need(self.gradient_accumulation_steps >= 1, "gradient_accumulation_steps must be >= 1")
        need(self.max_steps >= 1, "max_steps must be >= 1")
        need(self.max_seq_len >= 64, "max_seq_len must be >= 64 tokens")
        need(self.lora_first_layer >= 0, "lora_first_layer must be >= 0")
        need(bool(self.target_modules), "target_modules must name at least one linear layer")

    def path(self, name: str) -> Path:
        p = Path(getattr(self, name))
        return p if p.is_absolute() else ROOT / p
