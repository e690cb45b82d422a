# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint types unit clean compose-tool bench reliability

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/labellisation dev $(ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev compose-tool
	$(BIN)/pytest $(PYTEST_ARGS)

# docker-compose (Debian's package) checks docker-compose.yml; installed where missing and possible.
compose-tool:
	@command -v docker-compose >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) >/dev/null 2>&1; } || \
	  echo "docker-compose unavailable: the compose file is checked by the Python tests only"

test: lint types unit

# Benchmarks (not tests): each part prints its table and rewrites its section of BENCHMARKS.md.
# `make bench` runs them all; `make bench BENCH=path` (decision, path, portfolio) runs one.
bench: $(VENV)/.installed-dev
	LABELLISATION_LOG_LEVEL=WARNING $(BIN)/python -m bench $(BENCH)

# The reliability suite (kills, outages, fuzzing, hostile input) and its figures in one table at the end.
reliability: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/reliability tests/histories tests/records/test_recorded_path.py \
	  tests/workflows/test_reminders.py tests/workflows/test_limits.py -p tests.reliability.figures $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
