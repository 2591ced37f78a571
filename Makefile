# The two commands a newcomer needs: `make demo` (main job) and `make test`.
# Both install what they need, idempotently: a virtualenv in .venv, the Python
# dependencies, and the sandbox/render tools built from Go modules into the
# per-user cache (~/.cache/gitops-tui/tools, keyed by version).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test tools lint unit bench screenshots clean

$(STAMP): pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

tools: $(STAMP)
	$(BIN)/python -m gitops_tui.sandbox.toolchain

demo: tools
	$(BIN)/gitops-tui demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

test: tools lint
	$(BIN)/pytest -q -p no:cacheprovider

bench: tools
	$(BIN)/python -m gitops_tui.bench

screenshots: tools
	$(BIN)/python scripts/export_screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info
