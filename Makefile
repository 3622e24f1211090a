# jobdash — `make run` starts the dashboard and the scheduled sync, `make test` runs every check. Both install
# what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run dashboard test check lint typecheck imports pytest bench bench-large scheduler browser-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(VENV)/.runtime $@

# One command for the whole product: supervisord runs the dashboard and the scheduler (core/cli/run.py).
# A single command line, so make runs it without a shell and its SIGTERM reaches supervisord.
run: $(VENV)/.runtime
	$(BIN)/python -m core run --port $(PORT)

# The dashboard alone ("Sync now" still works: it runs the sync inside the dashboard process).
dashboard: $(VENV)/.runtime
	$(BIN)/python -m ui.warm --server.address 127.0.0.1 --server.port $(PORT) --server.headless true

scheduler: $(VENV)/.runtime
	$(BIN)/python scheduler.py

# Debian's Chromium for the browser tests (Playwright's own browser download does not work here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else echo "browser tests need Debian's chromium: sudo apt-get install chromium"; fi; }

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

imports: $(VENV)/.dev
	$(BIN)/lint-imports

pytest: $(VENV)/.dev browser-deps
	$(BIN)/python -m pytest -n 2 --dist loadgroup

check: lint typecheck imports

test: check pytest

bench: $(VENV)/.runtime
	$(BIN)/python -m core bench

bench-large: $(VENV)/.runtime
	$(BIN)/python -m core bench --jobs 1000000

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
