"""LM fine-tuning: training data, LoRA SFT, evaluation."""
