"""`python -m finetune`: not implemented yet (issues 3 and 4); exits with status 2 and says so."""

import sys

print(
    "finetune: training data, LoRA fine-tuning and classifiers are not implemented yet (issues 3 and 4).",
    file=sys.stderr,
)
sys.exit(2)
