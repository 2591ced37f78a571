# The two commands a newcomer needs: `make demo` (main job) and `make test`.
# Both install what they need, idempotently: a virtualenv in .venv, the Python
# dependencies, and the sandbox/render tools built from Go modules into the
# per-user cache (~/.cache/gitops-tui/tools, keyed by version).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-deps tools lint unit bench screenshots clean

$(STAMP): pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

# Argo CD (the peer the tests/argocd tests run against) builds from Go modules too,
# into the same cache keyed by version: about 15 min cold on 2 cores, once.
tools: $(STAMP)
	$(BIN)/python -m gitops_tui.sandbox.toolchain
	$(BIN)/python -m gitops_tui.sandbox.argocd_build

demo: tools
	$(BIN)/gitops-tui demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The unit tier includes the render tests over the real kustomize and helm: build them.
unit: tools
	$(BIN)/pytest -q tests/unit

# What the tests need beyond Python and the built tools: tmux for the real-terminal
# test, redis-server for the real Argo CD (tests/argocd). Installed from Debian
# packages when missing (as root); otherwise a clear error.
TEST_PACKAGES := tmux redis-server

test-deps:
	@missing=""; for tool in $(TEST_PACKAGES); do \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; \
	done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing$$missing (Debian packages) for the tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi; \
	for tool in $(TEST_PACKAGES); do \
	  command -v $$tool >/dev/null 2>&1 || { \
	    echo "make test: $$tool is needed (tmux: tests/cluster/test_tui_e2e.py; redis-server:" \
	         "tests/argocd) and could not be installed (not root, or no apt-get): install it" \
	         "(e.g. sudo apt-get install $$tool) and run make test again" >&2; exit 1; }; \
	done

# CI=true turns any skipped test into a failure (tests/conftest.py).
test: tools test-deps lint
	$(BIN)/pytest -q -p no:cacheprovider

bench: tools
	$(BIN)/python -m benchmarks

screenshots: tools
	$(BIN)/python scripts/export_screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info
