# Every target installs what it needs: a fresh clone runs `make run` or `make test` as is.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint format schema bench clean browser-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/sessiongraph migrate up
	@if [ -d "$$HOME/.claude/projects" ]; then \
		$(BIN)/sessiongraph import && \
		exec $(BIN)/sessiongraph serve --host $(HOST) --port $(PORT) --watch; \
	else \
		echo "no ~/.claude/projects here: loading the bundled demo sessions"; \
		$(BIN)/sessiongraph demo && \
		exec $(BIN)/sessiongraph serve --host $(HOST) --port $(PORT); \
	fi

# One worker per core and one more: about a fifth of the suite's time is spent waiting
# for the servers, CLI processes and browser the tests start, and the extra worker runs
# tests meanwhile (on 2 cores, 3 workers took 182 s where 2 took 208). A test file stays
# on one worker, so its module-scoped servers start once; files are handed out in the
# order conftest.py puts them (longest first), not xdist's (most tests first). The
# package is compiled first: where PYTHONDONTWRITEBYTECODE is set, each server or CLI
# process a test starts would otherwise compile it again (~0.3 s each); and pytest may
# keep its rewritten test modules, which every worker otherwise rewrites on every run
# (~7 s of CPU each).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: $(STAMP) browser-deps
	$(BIN)/python -m compileall -q graph bench
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Headless Chromium and its WebDriver for tests/test_browser.py (Debian packages, installed
# as root, or through sudo otherwise); does nothing when both are already there.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$sudo apt-get update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			chromium chromium-driver; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(STAMP)
	$(BIN)/sessiongraph export-schema > schema.graphql

# Figures, not assertions: ratios against raw SQLite / plaintext / a raw endpoint, same run.
# BENCH_ARGS="--quick", "--only import,serve", "--encrypted", "--json figures.json".
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .bench dist build
