# fugai: `make demo` and `make test` do all set-up on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench lint typecheck clean test-deps

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fugai needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/fugai demo --size $(or $(SIZE),small) --serve

# Debian's chromium + CJK fonts (browser tests), docker-compose (compose check) and
# node + Neo4j's Cypher checker from npm (offline Cypher lint); the tests that need
# them are skipped, and reported, without them
test-deps:
	sh scripts/install-test-deps.sh
	sh scripts/install-cypher-lint.sh

test: $(STAMP) test-deps
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/coverage.py $(BENCH_COVERAGE_ARGS)
	$(BIN)/python bench/viz.py

lint: $(STAMP)
	$(BIN)/ruff check graph ingest api viz tests bench

typecheck: $(STAMP)
	$(BIN)/mypy graph ingest api viz

clean:
	rm -rf $(VENV) build *.egg-info
