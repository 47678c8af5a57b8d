"""`python -m finetune`: see finetune/cli.py."""

import sys

from .cli import main

sys.exit(main())
