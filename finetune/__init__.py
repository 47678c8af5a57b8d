"""Training-data builders, LoRA fine-tuning of the LM and training of the classifiers (issues 3 and 4).
Nothing is implemented here yet; `python -m finetune` says so instead of pretending."""
