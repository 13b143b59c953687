# Two commands: `make run` and `make test`. Both set up .venv on first use only.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test bench clean-venv

run: $(STAMP)
	$(BIN)/newsbot run

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/newsbot bench
	$(BIN)/python -m tests.bench.telegram_overhead

# torch is pinned and installed first: unpinned, pip would pull a multi-GB CUDA build.
# The stamp depends on pyproject.toml, so a second run installs nothing.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet --quiet -e '.[dev]'
	touch $(STAMP)

clean-venv:
	rm -rf $(VENV)
