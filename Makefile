# The two commands a new user needs: `make run` and `make test`. Both install what they need:
# `make run` the runtime dependencies only, `make test` (and lint, format, bench) the dev tools too.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-run run run-offline test lint typecheck format bench bench-search bench-dictionary bench-web bench-ingest bench-load bench-hot-path bench-1m clean lock

$(BIN)/python:
	@$(PYTHON) -c "import sys; assert sys.version_info >= (3, 11)" 2>/dev/null || { echo "make: Python 3.11+ needed; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Both stamps install exactly what the lock files pin, hashes checked: the same pins as CI and the image.
# Runtime dependencies: what `paragraphs serve` needs.
$(RUN_STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(RUN_STAMP)

# Runtime and dev dependencies (tests, lint, types); includes everything the runtime stamp stands for.
$(DEV_STAMP): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(DEV_STAMP) $(RUN_STAMP)

install-run: $(RUN_STAMP)

install: $(DEV_STAMP)

# Re-pin after changing dependencies in pyproject.toml (uv resolves for every platform, Python 3.11).
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" -q -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" -q -o requirements-dev.lock

run: $(RUN_STAMP)
	$(BIN)/paragraphs serve --host $(HOST) --port $(PORT)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy paragraphs tests $(wildcard bench)

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(DEV_STAMP) lint
	$(BIN)/pytest

bench: bench-search bench-dictionary bench-web bench-ingest

bench-search: $(DEV_STAMP)
	$(BIN)/python -m bench.search

bench-dictionary: $(DEV_STAMP)
	$(BIN)/python -m bench.dictionary

bench-web: $(DEV_STAMP)
	$(BIN)/python -m bench.web

# seed's paragraphs/s into an empty database, bulk path against the ORM path, both engines (~5 min).
# Into a large database: `python -m bench.ingest --prefill 900000` (builds that base once: slow).
bench-ingest: $(DEV_STAMP)
	$(BIN)/python -m bench.ingest

# Over HTTP with wrk (apt-get install wrk): mixed load, 2 workers, both engines, and the reference measured in the
# same run: BENCH_BASELINE, by default main as it was before the throughput work (b56170d, what issue 9 measured).
BENCH_BASELINE ?= b56170d
bench-load: $(DEV_STAMP)
	$(BIN)/python -m bench.load --baseline $(BENCH_BASELINE)

# Cached /dictionary and /search against a bare endpoint, rounds taking the servers in turn, the reference beside.
bench-hot-path: $(DEV_STAMP)
	$(BIN)/python -m bench.hot_path --baseline $(BENCH_BASELINE)

# The search query set at 1,000,000 paragraphs (seeds the corpus once: slow, see bench/RESULTS.md).
bench-1m: $(DEV_STAMP)
	$(BIN)/python -m bench.search --count 1000000 --repeats 10 --naive-repeats 1

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
